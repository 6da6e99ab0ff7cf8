/**
 * The one place where a sink reports: metrics (`publish_errors_total{sink}`,
 * `broker_connected{sink}`), its child logger, and the caller's `onDrop` / `onDelivered` /
 * `onError` hooks.
 */
import { componentLogger, createLogger, type Logger } from '../../src/telemetry/logger.js';
import type { OutgoingMessage } from './outgoing-message.js';
import type { DropReason, SinkHooks } from './sink.js';

/** Reports a sink's connection state, deliveries, failed attempts and drops. */
export class SinkReporter {
  /** Child logger bound to `{ component: 'sink', sink }`. */
  readonly log: Logger;

  /**
   * @param sink - sink name (metric label)
   * @param hooks - metrics, logger and callbacks
   * @param bindings - extra fields bound to the logger (e.g. the broker URL)
   */
  constructor(
    readonly sink: string,
    private readonly hooks: SinkHooks,
    bindings: Record<string, unknown> = {},
  ) {
    this.log = componentLogger(hooks.logger ?? createLogger(), 'sink', { sink, ...bindings });
    // The series exists from the start, so that rates and alerts have one before the first error.
    hooks.metrics?.publishErrors.inc({ sink }, 0);
  }

  /** Sets `broker_connected{sink}`. */
  connected(value: boolean): void {
    this.hooks.metrics?.brokerConnected.set({ sink: this.sink }, value ? 1 : 0);
  }

  /**
   * A message the broker acknowledged: settles it `acked` (unless already settled, e.g. `queued`)
   * and, for a decision, calls the `onDelivered` hook.
   */
  delivered(message: OutgoingMessage): void {
    message.settle('acked');
    if (message.decision !== undefined) this.hooks.onDelivered?.(message.decision);
  }

  /** Counts a failed publish attempt (it may be retried) and reports the error. */
  attemptFailed(error: Error, destination: string): void {
    this.hooks.metrics?.publishErrors.inc({ sink: this.sink });
    this.log.warn({ err: error, destination }, 'publish attempt failed');
    this.hooks.onError?.(error);
  }

  /** Reports a background error that is not a publish attempt (connection, setup). */
  error(error: Error, context: Record<string, unknown> = {}): void {
    this.log.error({ err: error, ...context }, 'sink error');
    this.hooks.onError?.(error);
  }

  /**
   * Counts and reports a message the sink gives up on, and settles it `dropped` (unless it was
   * already settled, e.g. rejected with `error`).
   */
  dropped(message: OutgoingMessage, reason: DropReason, error?: Error): void {
    this.hooks.metrics?.publishErrors.inc({ sink: this.sink });
    this.log.warn(
      {
        ...(error === undefined ? {} : { err: error }),
        reason,
        destination: message.destination,
        camera: message.decision?.cameraId,
        frameId: message.decision?.frameId,
      },
      'message dropped',
    );
    message.settle('dropped');
    if (error !== undefined) this.hooks.onError?.(error);
    this.hooks.onDrop?.({
      sink: this.sink,
      reason,
      destination: message.destination,
      ...(message.decision === undefined ? {} : { decision: message.decision }),
    });
  }
}
