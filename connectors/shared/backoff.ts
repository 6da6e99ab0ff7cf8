/** Capped exponential backoff with jitter, for reconnects and retries of sources and sinks. */

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
