import { afterEach, describe, expect, it, vi } from 'vitest';
import { withTimeout } from '../../../connectors/shared/with-timeout.js';

describe('withTimeout', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('settles as the promise does when it is in time, and clears its timer', async () => {
    vi.useFakeTimers();
    const late = () => new Error('late');
    await expect(withTimeout(Promise.resolve(7), 100, late)).resolves.toBe(7);
    await expect(withTimeout(Promise.reject(new Error('refused')), 100, late)).rejects.toThrow('refused');
    expect(vi.getTimerCount()).toBe(0);
  });

  it('rejects with the error onTimeout builds once ms have passed', async () => {
    vi.useFakeTimers();
    const never = new Promise<number>(() => undefined);
    const raced = withTimeout(never, 100, () => new Error('no connection within 100 ms'));
    const outcome = raced.then(
      () => 'resolved',
      (error: unknown) => (error as Error).message,
    );
    await vi.advanceTimersByTimeAsync(99);
    expect(vi.getTimerCount()).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    await expect(outcome).resolves.toBe('no connection within 100 ms');
  });

  it('handles a rejection that comes after the timeout (no unhandled rejection)', async () => {
    let fail: (error: Error) => void = () => undefined;
    const slow = new Promise<never>((_, reject) => {
      fail = reject;
    });
    await expect(withTimeout(slow, 1, () => new Error('timeout'))).rejects.toThrow('timeout');
    fail(new Error('later'));
    await new Promise((resolve) => setTimeout(resolve, 5));
  });
});
