/**
 * Hands each decision to every sink without making the pipeline wait, and keeps the books: the
 * capture -> published latency of acknowledged decisions, and every decision a sink did not take
 * (counted in `publish_errors_total{sink}`, by the sink or here). At shutdown, {@link
 * DecisionPublisher.settled} waits until each publish has an outcome.
 */
import { SinkClosedError } from '../../../connectors/sinks/errors.js';
import type { DecisionSink, PublishOutcome } from '../../../connectors/sinks/sink.js';
import type { Decision } from '../../core/decision.js';
import type { Logger } from '../../telemetry/logger.js';
import type { CubestreamMetrics } from '../../telemetry/metrics.js';

/** Totals of what the publisher handed out, by outcome, over all sinks. */
export interface PublishTotals {
  /** Decisions handed to the publisher. */
  decisions: number;
  /** Sink publishes acknowledged. */
  acked: number;
  /** Sink publishes parked in an offline queue (delivered later, or counted when dropped). */
  queued: number;
  /** Sink publishes dropped or rejected (each counted in `publish_errors_total`). */
  failed: number;
}

/** Options of {@link DecisionPublisher}. */
export interface DecisionPublisherOptions {
  readonly sinks: readonly DecisionSink[];
  readonly metrics: Pick<CubestreamMetrics, 'frameLatency' | 'publishErrors'>;
  readonly logger: Logger;
  /** Called with each decision once every sink took it (acked or queued): the viewer, the summary. */
  readonly onPublished?: (decision: Decision, latencySeconds: number | undefined) => void;
  /** Clock, epoch ms (default `Date.now`). */
  readonly now?: () => number;
}

/**
 * Publishes decisions to every sink in the background.
 *
 * @example
 * ```ts
 * import { deepSvddPipeline } from 'cubestream/operators';
 * const publisher = new DecisionPublisher({ sinks: [sink], metrics, logger });
 * frames$.pipe(deepSvddPipeline(bundle)).subscribe((d) => publisher.publish(d.decision)); // never waits for a broker
 * await publisher.settled();                                 // at shutdown
 * ```
 */
export class DecisionPublisher {
  /** Running totals (see {@link PublishTotals}). */
  readonly totals: PublishTotals = { decisions: 0, acked: 0, queued: 0, failed: 0 };
  private readonly inFlight = new Set<Promise<void>>();
  private readonly now: () => number;

  /** @param options - see {@link DecisionPublisherOptions} */
  constructor(private readonly options: DecisionPublisherOptions) {
    this.now = options.now ?? Date.now;
  }

  /** Publishes being waited on. */
  get pending(): number {
    return this.inFlight.size;
  }

  /**
   * Starts publishing `decision` to every sink and returns at once. `onDelivered` is called once
   * every sink acknowledged it (`acked`; with no sinks, at once): not when a sink only queued it
   * or dropped it, so a caller that acknowledges the decision's frame upstream (a JetStream
   * source's `CubeFrame.ack`) leaves such a frame to be delivered again.
   */
  publish(decision: Decision, onDelivered?: () => void): void {
    this.totals.decisions += 1;
    const task = this.deliver(decision, onDelivered);
    this.inFlight.add(task);
    void task.finally(() => this.inFlight.delete(task));
  }

  /** Resolves once every publish started so far has an outcome (acked, queued, dropped, rejected). */
  async settled(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  private async deliver(decision: Decision, onDelivered: (() => void) | undefined): Promise<void> {
    const { sinks, metrics, logger } = this.options;
    const outcomes = await Promise.all(
      sinks.map((sink) =>
        sink.publish(decision).then(
          (outcome): PublishOutcome | 'failed' => outcome,
          (error: unknown): 'failed' => {
            // Sinks count what they drop or the broker rejects; a publish refused because the sink
            // is already closed is counted here, so no decision goes missing silently.
            if (error instanceof SinkClosedError) metrics.publishErrors.inc({ sink: sink.name });
            logger.warn(
              { err: error, sink: sink.name, camera: decision.cameraId, frameId: decision.frameId },
              'decision not published',
            );
            return 'failed';
          },
        ),
      ),
    );
    let delivered = true;
    let acked = true;
    for (const outcome of outcomes) {
      if (outcome === 'acked') this.totals.acked += 1;
      else if (outcome === 'queued') this.totals.queued += 1;
      else this.totals.failed += 1;
      if (outcome !== 'acked') acked = false;
      if (outcome !== 'acked' && outcome !== 'queued') delivered = false;
    }
    let latency: number | undefined;
    if (acked && outcomes.length > 0) {
      latency = Math.max(0, (this.now() - decision.capturedAt) / 1000);
      metrics.frameLatency.observe({ camera: decision.cameraId }, latency);
    }
    if (delivered) this.options.onPublished?.(decision, latency);
    if (acked && onDelivered !== undefined) {
      try {
        onDelivered();
      } catch (error) {
        logger.warn(
          { err: error, camera: decision.cameraId, frameId: decision.frameId },
          'delivery callback failed',
        );
      }
    }
  }
}
