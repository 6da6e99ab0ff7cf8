/**
 * The first connection to a NATS server, one attempt at a time: a server that is not up yet is
 * retried with backoff (each failed attempt reported with its reason), while an untrusted TLS
 * certificate or refused credentials end the attempts at once. Once connected, the client's own
 * reconnect logic takes over.
 */
import { connect, type NatsConnection, type NodeConnectionOptions } from '@nats-io/transport-node';
import { asError } from '../../src/core/errors.js';
import { type BackoffOptions, backoffDelay } from './backoff.js';
import { tlsFailure } from './tls-failure.js';

/** How {@link connectNats} retries and reports. */
export interface NatsConnectRetry {
  /** True once the caller gave up (closed): attempts stop with the last error. */
  readonly isClosed: () => boolean;
  /** Waits between attempts (a wakeable wait lets a close cut it short); default setTimeout. */
  readonly wait?: (ms: number) => Promise<void>;
  /** Backoff between attempts; default 500 ms doubling up to 30 s. */
  readonly backoff?: BackoffOptions;
  /** Called after each failed attempt that will be retried. */
  readonly onAttemptFailed?: (error: Error, attempt: number, retryInMs: number) => void;
  /** Builds the error thrown for a failure no retry mends. */
  readonly fatal: (kind: 'tls' | 'auth', detail: string, cause: unknown) => Error;
}

/** A connection refused for its credentials (the server says "Authorization Violation"). */
function isAuthFailure(error: unknown): boolean {
  return error instanceof Error && /authorization violation|authentication/i.test(error.message);
}

/**
 * Connects, retrying until the server answers.
 *
 * @throws what `retry.fatal` builds for a TLS or credentials failure; the last error once closed
 * @example
 * ```ts
 * const nc = await connectNats({ servers: 'nats://127.0.0.1:4222' }, {
 *   isClosed: () => false,
 *   onAttemptFailed: (err, attempt, ms) => logger.warn({ err, attempt, ms }, 'nats not reachable'),
 *   fatal: (kind, detail, cause) => new Error(`${kind}: ${detail}`, { cause }),
 * });
 * ```
 */
export async function connectNats(
  options: NodeConnectionOptions,
  retry: NatsConnectRetry,
): Promise<NatsConnection> {
  const wait = retry.wait ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await connect({ ...options, waitOnFirstConnect: false });
    } catch (error) {
      const tls = tlsFailure(error);
      if (tls !== undefined) throw retry.fatal('tls', tls, error);
      if (isAuthFailure(error)) throw retry.fatal('auth', asError(error).message, error);
      if (retry.isClosed()) throw asError(error);
      const retryInMs = backoffDelay(attempt - 1, retry.backoff);
      retry.onAttemptFailed?.(asError(error), attempt, retryInMs);
      await wait(retryInMs);
    }
  }
}
