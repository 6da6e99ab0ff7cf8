/**
 * Timing helpers shared by the broker sinks: capped exponential backoff with jitter, and the
 * polling wait behind `flush(timeoutMs)`.
 */
import { SinkFlushTimeoutError } from './errors.js';

/** Reconnect / retry backoff: first delay, cap. */
export interface BackoffOptions {
  /** First delay in ms; default 500. */
  initialMs?: number;
  /** Largest delay in ms; default 30 000. */
  maxMs?: number;
}

/**
 * Delay before retry number `attempt` (0-based): `min(maxMs, initialMs * 2^attempt)`, times a
 * jitter factor in [0.8, 1.2) so that many clients do not reconnect in lockstep.
 *
 * @example
 * ```ts
 * backoffDelay(0, { initialMs: 100, maxMs: 1000 }); // ~100
 * backoffDelay(10, { initialMs: 100, maxMs: 1000 }); // ~1000
 * ```
 */
export function backoffDelay(attempt: number, options: BackoffOptions = {}, random = Math.random): number {
  const initial = options.initialMs ?? 500;
  const max = options.maxMs ?? 30_000;
  const base = Math.min(max, initial * 2 ** Math.min(attempt, 30));
  return Math.round(base * (0.8 + 0.4 * random()));
}

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
