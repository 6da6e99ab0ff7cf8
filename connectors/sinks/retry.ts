/**
 * Timing helpers of the broker sinks: the polling wait behind `flush(timeoutMs)` and a wakeable
 * wait (the backoff itself is shared with the sources: connectors/shared/backoff.ts).
 */
import { SinkFlushTimeoutError } from './errors.js';

/**
 * Resolves once `pending()` is 0; rejects with {@link SinkFlushTimeoutError} after `timeoutMs`.
 * Polls every 10 ms (flush is called at shutdown and in tests, never per message).
 */
export async function waitUntilIdle(sink: string, pending: () => number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (pending() > 0) {
    if (Date.now() >= deadline) throw new SinkFlushTimeoutError(sink, pending(), timeoutMs);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A sleep that can be cut short: `wait(ms)` resolves after `ms` or at the next `wake()`. */
export class Waker {
  private waiters: Array<() => void> = [];

  /** Resolves after `ms`, or earlier when {@link wake} is called. */
  wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.waiters = this.waiters.filter((w) => w !== done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.waiters.push(done);
    });
  }

  /** Resolves every pending {@link wait}. */
  wake(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}
