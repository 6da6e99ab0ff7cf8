/**
 * Where the pipeline's events go: every docs/metrics.md metric the pipeline feeds (frames received,
 * dropped, rejected, stage durations, τ, centre drift, queue depth, decisions, scored pixels,
 * pixels scored early, anomalous ratio), the service's running totals, the logs (child loggers
 * bound to `camera` and `frameId`), and rejected frames to the dead-letter route.
 */
import type { DeadLetterSink } from '../../../connectors/sinks/dead-letter.js';
import { deadLetterFromError } from '../../../connectors/sinks/dead-letter.js';
import type { RejectedMessage } from '../../../connectors/sources/broker-frame-source.js';
import type { SourceState } from '../../../connectors/sources/source-state.js';
import type { PipelineHooks } from '../../../operators/deep-svdd-pipeline.js';
import { UNKNOWN_CAMERA } from '../../core/camera-id.js';
import type { DecidedFrame } from '../../core/decision.js';
import { FRAME_DROP_REASONS, type SourceDropReason } from '../../core/drop-reasons.js';
import { type CubeFrame, FRAME_REJECT_REASONS, type InvalidFrameError } from '../../core/frame.js';
import type { Logger } from '../../telemetry/logger.js';
import type { CubestreamMetrics } from '../../telemetry/metrics.js';
import type { ServiceStats } from './service-stats.js';

/** Options of {@link PipelineTelemetry}. */
export interface PipelineTelemetryOptions {
  readonly metrics: CubestreamMetrics;
  readonly stats: ServiceStats;
  /** Parent logger; events log through a child bound to `{ component: 'pipeline' }`. */
  readonly logger: Logger;
  readonly deadLetters: DeadLetterSink;
  /**
   * The cameras known from the configuration: their series (counters at 0, `source_connected`,
   * `threshold_calibrated`) exist from the start, before any frame. Cameras admitted later get
   * theirs on their first frame.
   */
  readonly cameras: readonly string[];
  /** τ the model was calibrated at (`threshold_calibrated{camera}`). */
  readonly calibratedThreshold: number;
  /** τ changed for a camera (the status refresher). */
  readonly onThreshold?: (cameraId: string, threshold: number) => void;
  /**
   * A block left the pipeline without a decision (rejected, dropped by backpressure, the scorer
   * failed on it), with the reason (`rejected:<code>`, `dropped:<reason>`, `scorer_error`): the service publishes an `unknown` verdict.
   */
  readonly onUndecided?: (frame: CubeFrame, reason: string) => void;
}

/**
 * The service's side of the pipeline.
 *
 * @example
 * ```ts
 * import { tap } from 'rxjs';
 * import { DeadLetterSink, JsonlDeadLetterFile } from 'cubestream/connectors';
 * import { deepSvddPipeline } from 'cubestream/operators';
 * import { ServiceStats } from './service-stats.js';
 * const telemetry = new PipelineTelemetry({
 *   metrics, stats: new ServiceStats(), logger, cameras: ['cam0'], calibratedThreshold: bundle.calibration.threshold,
 *   deadLetters: new DeadLetterSink([new JsonlDeadLetterFile({ path: 'dead.jsonl' })]),
 * });
 * frames$.pipe(tap((f) => telemetry.received(f)), deepSvddPipeline(bundle, { hooks: telemetry.hooks }))
 *   .subscribe((d) => telemetry.decided(d));
 * ```
 */
export class PipelineTelemetry {
  /** Hooks to hand to `deepSvddPipeline`. */
  readonly hooks: PipelineHooks;
  private readonly log: Logger;
  private readonly pendingLetters = new Set<Promise<unknown>>();
  private readonly warnedDrops = new Set<string>();
  private readonly known = new Set<string>();
  private queueDepth = 0;
  private connected = 0;

  /** @param options - see {@link PipelineTelemetryOptions} */
  constructor(private readonly options: PipelineTelemetryOptions) {
    this.log = options.logger.child({ component: 'pipeline' });
    const { metrics, stats } = options;
    this.hooks = {
      onReject: (frame, error) => this.rejectedFrame(frame, error),
      onDrop: (frame, reason) => {
        metrics.framesDropped.inc({ camera: frame.cameraId, reason });
        stats.drop(frame.cameraId);
        const log = this.log.child({ camera: frame.cameraId, frameId: frame.frameId });
        if (!this.warnedDrops.has(frame.cameraId)) {
          this.warnedDrops.add(frame.cameraId);
          log.warn(
            { reason },
            'dropping frames: the pipeline is slower than the camera (counted in frames_dropped_total)',
          );
        } else log.debug({ reason, rowOffset: frame.rowOffset }, 'frame dropped');
        options.onUndecided?.(frame, `dropped:${reason}`);
      },
      onScoreError: (frame, error) => {
        metrics.framesDropped.inc({ camera: frame.cameraId, reason: 'scorer_error' });
        stats.drop(frame.cameraId);
        this.log
          .child({ camera: frame.cameraId, frameId: frame.frameId })
          .error(
            { err: error, rowOffset: frame.rowOffset },
            'scorer failed on a block: verdict unknown, scorer started afresh (counted in frames_dropped_total{reason="scorer_error"})',
          );
        options.onUndecided?.(frame, 'scorer_error');
      },
      // One queue serves every camera of the source: each camera's series shows its depth.
      onQueueDepth: (depth) => {
        this.queueDepth = depth;
        for (const camera of this.known) metrics.queueDepth.set({ camera }, depth);
      },
      onThreshold: (cameraId, threshold) => {
        metrics.threshold.set({ camera: cameraId }, threshold);
        stats.thresholds.set(cameraId, threshold);
        options.onThreshold?.(cameraId, threshold);
      },
      onCenterUpdate: (_center, drift, cameraId) => {
        metrics.centerDrift.set({ camera: cameraId }, drift);
        stats.centerDrifts.set(cameraId, drift);
      },
      onDefects: (cameraId, count) => {
        metrics.defectiveElements.set({ camera: cameraId }, count);
        this.log.warn(
          { camera: cameraId, defectiveElements: count },
          'stuck sensor elements changed: repaired from neighbouring bands (cubestream_defective_elements)',
        );
      },
      onStage: (stage, seconds) => metrics.stageDuration.observe({ stage }, seconds),
      // inc by 0 too, so that a camera's series exists from its first scored block
      onScored: (scored) => metrics.pixelsScoredEarly.inc({ camera: scored.cameraId }, scored.earlyPixels),
    };
    for (const camera of options.cameras) this.knowCamera(camera);
    // Messages refused before their camera could be trusted are counted under `_unknown`.
    for (const reason of FRAME_REJECT_REASONS)
      metrics.framesRejected.inc({ camera: UNKNOWN_CAMERA, reason }, 0);
  }

  /**
   * Creates a camera's series once: every labelled counter at 0 for its known label values (so
   * rates, panels and alerts have a series before the first drop or rejection), the queue depth,
   * the source state and the calibrated τ. Cameras reach here only once admitted by the source
   * (configured, or within its cap), so the label set stays bounded.
   */
  knowCamera(camera: string): void {
    if (this.known.has(camera)) return;
    this.known.add(camera);
    const { metrics } = this.options;
    metrics.framesReceived.inc({ camera }, 0);
    for (const anomalous of ['true', 'false']) metrics.decisions.inc({ camera, anomalous }, 0);
    for (const reason of FRAME_DROP_REASONS) metrics.framesDropped.inc({ camera, reason }, 0);
    for (const reason of FRAME_REJECT_REASONS) metrics.framesRejected.inc({ camera, reason }, 0);
    metrics.pixelsScoredEarly.inc({ camera }, 0);
    metrics.queueDepth.set({ camera }, this.queueDepth);
    metrics.sourceConnected.set({ camera }, this.connected);
    metrics.thresholdCalibrated.set({ camera }, this.options.calibratedThreshold);
  }

  /** The source's state: `source_connected` is 1 for every known camera while it is running. */
  sourceState(state: SourceState): void {
    this.connected = state === 'running' ? 1 : 0;
    for (const camera of this.known) this.options.metrics.sourceConnected.set({ camera }, this.connected);
  }

  /**
   * Camera lines a source lost before they made a block (`incomplete`, `gap`): counted in
   * `frames_dropped_total{camera,reason}`, one per camera frame (line). Not in the service's
   * dropped blocks ({@link ServiceStats.dropped}).
   */
  sourceDropped(camera: string, reason: SourceDropReason, lines: number): void {
    this.knowCamera(camera);
    this.options.metrics.framesDropped.inc({ camera, reason }, lines);
  }

  /** Dead letters not yet handed to every target. */
  get pendingDeadLetters(): number {
    return this.pendingLetters.size;
  }

  /** A block entered the pipeline. */
  received(frame: CubeFrame): void {
    this.knowCamera(frame.cameraId);
    this.options.metrics.framesReceived.inc({ camera: frame.cameraId });
    this.options.metrics.lastFrameTimestamp.set({ camera: frame.cameraId }, Date.now() / 1000);
    this.options.stats.frames += 1;
  }

  /** A block was decided: counters, gauges, and a debug line bound to its camera and frame. */
  decided(frame: DecidedFrame): void {
    const { metrics, stats } = this.options;
    const { decision } = frame;
    const camera = decision.cameraId;
    metrics.decisions.inc({ camera, anomalous: String(decision.anomalous) });
    metrics.pixelsScored.inc(decision.pixels);
    metrics.anomalousPixelsRatio.set(
      { camera },
      decision.pixels > 0 ? decision.anomalousPixels / decision.pixels : 0,
    );
    stats.decisions += 1;
    if (decision.anomalous) stats.anomalous += 1;
    stats.observeTruth(frame);
    if (!this.log.isLevelEnabled('debug')) return;
    this.log.child({ camera, frameId: decision.frameId }).debug(
      {
        rowOffset: decision.rowOffset,
        anomalous: decision.anomalous,
        anomalousPixels: decision.anomalousPixels,
        blobs: decision.blobs.length,
        threshold: decision.threshold,
      },
      'decision',
    );
  }

  /** A broker message that is not a frame (from the source's `onReject`). */
  rejectedMessage(rejected: RejectedMessage): void {
    const camera = rejected.cameraId ?? UNKNOWN_CAMERA;
    this.countReject(camera, rejected.error.code);
    this.log.child({ camera }).warn(
      {
        reason: rejected.error.code,
        channel: rejected.channel,
        bytes: rejected.bytes,
        err: rejected.error,
      },
      'message rejected',
    );
    this.deadLetter(
      deadLetterFromError(rejected.error, {
        ...(rejected.cameraId === undefined ? {} : { cameraId: rejected.cameraId }),
        metadata: { channel: rejected.channel, bytes: rejected.bytes },
      }),
    );
  }

  /** Resolves once every dead letter sent so far reached (or failed at) its targets. */
  async deadLettersSettled(): Promise<void> {
    while (this.pendingLetters.size > 0) await Promise.allSettled([...this.pendingLetters]);
  }

  private rejectedFrame(frame: CubeFrame, error: InvalidFrameError): void {
    this.knowCamera(frame.cameraId);
    this.countReject(frame.cameraId, error.code);
    this.options.onUndecided?.(frame, `rejected:${error.code}`);
    this.log
      .child({ camera: frame.cameraId, frameId: frame.frameId })
      .warn({ reason: error.code, err: error }, 'frame rejected');
    this.deadLetter(
      deadLetterFromError(error, {
        cameraId: frame.cameraId,
        frameId: frame.frameId,
        metadata: {
          rowOffset: frame.rowOffset,
          height: frame.height,
          width: frame.width,
          bands: frame.bands,
        },
      }),
    );
  }

  private countReject(camera: string, reason: string): void {
    this.options.metrics.framesRejected.inc({ camera, reason });
    this.options.stats.rejected += 1;
  }

  private deadLetter(letter: ReturnType<typeof deadLetterFromError>): void {
    const sent = this.options.deadLetters.publish(letter);
    this.pendingLetters.add(sent);
    void sent.finally(() => this.pendingLetters.delete(sent));
  }
}
