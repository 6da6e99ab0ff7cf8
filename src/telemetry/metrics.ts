/**
 * The Prometheus metrics of docs/metrics.md, one fresh prom-client `Registry` per call (no global state:
 * tests and embedded pipelines can hold several side by side).
 */
import { Counter, collectDefaultMetrics, exponentialBuckets, Gauge, Histogram, Registry } from 'prom-client';

/** Prefix of every cubestream metric name. */
export const METRIC_PREFIX = 'cubestream_';

/**
 * The metric names of docs/metrics.md (without the prefix), exactly as the Grafana dashboard uses them,
 * plus the documented additions (docs/operating.md, "Metrics"): `engine_info{scoring,training,tfjs}`,
 * `pixels_scored_early_total{camera}`, the durable outbox's `outbox_pending{sink}` and
 * `outbox_replayed_total{sink}`, and `source_connected{camera}`,
 * `last_frame_timestamp_seconds{camera}`, `threshold_calibrated{camera}`, `warmup_complete`,
 * the ejector's `ejects_total{camera}`, `ejects_late_total{camera}`, `eject_budget_seconds{camera}`
 * the defect correction's `defective_elements{camera}`, and the capture sink's
 * `captures_total{camera,kind}`, `capture_dropped_total{camera,reason}`,
 * `capture_deleted_total{reason}` and `capture_bytes` (docs/capture.md), and the hot model
 * reload's `model_switches_total` and `model_refused_total{reason}` (docs/model-rollout.md), and
 * the leased cameras' `camera_state_total{camera,outcome}` (docs/scaling-out.md §3).
 */
export const METRIC_NAMES = [
  'frames_received_total',
  'frames_dropped_total',
  'frames_rejected_total',
  'stage_duration_seconds',
  'frame_latency_seconds',
  'pixels_scored_total',
  'anomalous_pixels_ratio',
  'decisions_total',
  'threshold',
  'center_drift',
  'queue_depth',
  'publish_errors_total',
  'broker_connected',
  'model_info',
  'engine_info',
  'pixels_scored_early_total',
  'outbox_pending',
  'outbox_replayed_total',
  'source_connected',
  'last_frame_timestamp_seconds',
  'threshold_calibrated',
  'warmup_complete',
  'ejects_total',
  'ejects_late_total',
  'eject_budget_seconds',
  'defective_elements',
  'captures_total',
  'capture_dropped_total',
  'capture_deleted_total',
  'capture_bytes',
  'model_switches_total',
  'model_refused_total',
  'camera_state_total',
] as const;

/** Buckets of `stage_duration_seconds`: 0.5 ms doubling up to 8.192 s (15 buckets). */
export const STAGE_DURATION_BUCKETS: readonly number[] = exponentialBuckets(0.0005, 2, 15);

/** Buckets of `frame_latency_seconds` (capture -> published): 1 ms doubling up to 16.4 s. */
export const FRAME_LATENCY_BUCKETS: readonly number[] = exponentialBuckets(0.001, 2, 15);

/** Options of {@link createMetrics}. */
export interface MetricsOptions {
  /** Register prom-client's default process metrics (CPU, memory, GC, event-loop lag). Default true. */
  defaultMetrics?: boolean;
  /** Labels added to every series of this registry (e.g. `{ instance: 'line-3' }`). */
  defaultLabels?: Record<string, string>;
  /** Buckets of `stage_duration_seconds`; default {@link STAGE_DURATION_BUCKETS}. */
  stageBuckets?: readonly number[];
  /** Buckets of `frame_latency_seconds`; default {@link FRAME_LATENCY_BUCKETS}. */
  latencyBuckets?: readonly number[];
}

/**
 * Typed handles on every cubestream metric, all registered in {@link CubestreamMetrics.registry}.
 *
 * @example
 * ```ts
 * const metrics = createMetrics();
 * metrics.framesReceived.inc({ camera: 'cam1' });
 * const end = metrics.stageDuration.startTimer({ stage: 'project' });
 * end();
 * metrics.setModelInfo('2024-06-01', 'ab12…');
 * const text = await metrics.registry.metrics();
 * ```
 */
export interface CubestreamMetrics {
  /** The registry holding all of them (serve with `registry.metrics()` / `registry.contentType`). */
  readonly registry: Registry;
  /** `cubestream_frames_received_total{camera}`: frames that entered the pipeline. */
  readonly framesReceived: Counter<'camera'>;
  /** `cubestream_frames_dropped_total{camera,reason}`: frames dropped on purpose (backpressure, stale). */
  readonly framesDropped: Counter<'camera' | 'reason'>;
  /** `cubestream_frames_rejected_total{camera,reason}`: bad input; `reason` is the error `code`. */
  readonly framesRejected: Counter<'camera' | 'reason'>;
  /** `cubestream_stage_duration_seconds{stage}`: time spent in each pipeline stage per frame. */
  readonly stageDuration: Histogram<'stage'>;
  /** `cubestream_frame_latency_seconds{camera}`: capture -> decision published. */
  readonly frameLatency: Histogram<'camera'>;
  /** `cubestream_pixels_scored_total`: pixels that went through the score stage. */
  readonly pixelsScored: Counter<string>;
  /**
   * `cubestream_pixels_scored_early_total{camera}` (addition to docs/metrics.md): pixels scored from early
   * rows, while their block was still being captured (a share of `pixels_scored_total`).
   */
  readonly pixelsScoredEarly: Counter<'camera'>;
  /** `cubestream_anomalous_pixels_ratio{camera}`: share of anomalous pixels in the last frame. */
  readonly anomalousPixelsRatio: Gauge<'camera'>;
  /** `cubestream_decisions_total{camera,anomalous}`: decisions made, `anomalous` is `true`/`false`. */
  readonly decisions: Counter<'camera' | 'anomalous'>;
  /** `cubestream_threshold{camera}`: current score threshold τ. */
  readonly threshold: Gauge<'camera'>;
  /** `cubestream_center_drift{camera}`: distance of the online centre from the trained one. */
  readonly centerDrift: Gauge<'camera'>;
  /** `cubestream_queue_depth{camera}`: frames waiting in the pipeline. */
  readonly queueDepth: Gauge<'camera'>;
  /** `cubestream_publish_errors_total{sink}`: failed publish attempts and decisions dropped by a sink. */
  readonly publishErrors: Counter<'sink'>;
  /** `cubestream_broker_connected{sink}`: 1 while the sink is connected to its broker, else 0. */
  readonly brokerConnected: Gauge<'sink'>;
  /** `cubestream_model_info{version,sha256}`: 1 for the loaded model (see {@link setModelInfo}). */
  readonly modelInfo: Gauge<'version' | 'sha256'>;
  /** `cubestream_engine_info{scoring,training,tfjs}` (addition): 1 for the engines in use (see {@link EngineLabels}). */
  readonly engineInfo: Gauge<keyof EngineLabels>;
  /** `cubestream_source_connected{camera}` (addition): 1 while the camera's source is connected and running, else 0. */
  readonly sourceConnected: Gauge<'camera'>;
  /** `cubestream_last_frame_timestamp_seconds{camera}` (addition): when the camera's last frame arrived (epoch s). */
  readonly lastFrameTimestamp: Gauge<'camera'>;
  /** `cubestream_threshold_calibrated{camera}` (addition): τ the model was calibrated at (compare `threshold`). */
  readonly thresholdCalibrated: Gauge<'camera'>;
  /** `cubestream_warmup_complete` (addition): 0 while the scorer warms up and the first blocks pass, then 1. */
  readonly warmupComplete: Gauge<string>;
  /** `cubestream_ejects_total{camera}` (addition): eject commands sent (docs/ejectors.md). */
  readonly ejects: Counter<'camera'>;
  /** `cubestream_ejects_late_total{camera}` (addition): eject commands not sent because their fire time had passed when planned. */
  readonly ejectsLate: Counter<'camera'>;
  /** `cubestream_eject_budget_seconds{camera}` (addition): time left until the valves fire when an eject is planned (negative: late). */
  readonly ejectBudget: Histogram<'camera'>;
  /** `cubestream_defective_elements{camera}` (addition): stuck sensor elements the pipeline repairs (docs/maths.md §5). */
  readonly defectiveElements: Gauge<'camera'>;
  /** `cubestream_outbox_pending{sink}` (addition): decisions kept in the sink's durable outbox, not yet acknowledged. */
  readonly outboxPending: Gauge<'sink'>;
  /** `cubestream_outbox_replayed_total{sink}` (addition): decisions re-sent from the outbox after a restart. */
  readonly outboxReplayed: Counter<'sink'>;
  /** `cubestream_captures_total{camera,kind}` (addition): blocks saved by the capture sink, `kind` `anomalous` or `normal` (docs/capture.md). */
  readonly captures: Counter<'camera' | 'kind'>;
  /** `cubestream_capture_dropped_total{camera,reason}` (addition): blocks the capture sink meant to save and did not. */
  readonly captureDropped: Counter<'camera' | 'reason'>;
  /** `cubestream_capture_deleted_total{reason}` (addition): captures deleted to keep the disk budget, `reason` `bytes` or `age`. */
  readonly captureDeleted: Counter<'reason'>;
  /** `cubestream_capture_bytes` (addition): bytes of captures on disk. */
  readonly captureBytes: Gauge<string>;
  /** `cubestream_model_switches_total` (addition): times the service switched to another model while running (docs/model-rollout.md). */
  readonly modelSwitches: Counter<string>;
  /** `cubestream_model_refused_total{reason}` (addition): models a watched key pointed at that the service refused; the running one went on. */
  readonly modelRefused: Counter<'reason'>;
  /** `cubestream_camera_state_total{camera,outcome}` (addition): camera state checkpoints restored, refused, saved or failed (docs/scaling-out.md §3). */
  readonly cameraState: Counter<'camera' | 'outcome'>;
  /** Replaces the `model_info` series with the one of this model (value 1). */
  setModelInfo(version: string, sha256: string): void;
  /** Replaces the `engine_info` series with the one of these engines (value 1). */
  setEngineInfo(engines: EngineLabels): void;
}

/** Labels of `cubestream_engine_info`. */
export interface EngineLabels {
  /** What scores pixels: `onnx` (onnxruntime, fused graph) or `tfjs` (the operator chain). */
  readonly scoring: string;
  /** What computes training gradients in this process: `onnx` or `tfjs`. */
  readonly training: string;
  /** The tfjs backend (variables, optimiser, fallback scoring): `tensorflow`, `wasm` or `cpu`. */
  readonly tfjs: string;
}

/**
 * Creates a fresh registry with every metric of docs/metrics.md (prefix `cubestream_`), plus
 * prom-client's default process metrics (unprefixed, e.g. `nodejs_eventloop_lag_seconds`).
 */
export function createMetrics(options: MetricsOptions = {}): CubestreamMetrics {
  const registry = new Registry();
  if (options.defaultLabels !== undefined) registry.setDefaultLabels(options.defaultLabels);
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry });
  const registers = [registry];
  const name = (suffix: (typeof METRIC_NAMES)[number]): string => `${METRIC_PREFIX}${suffix}`;

  const modelInfo = new Gauge({
    name: name('model_info'),
    help: 'Loaded model bundle (value 1), labelled by version and sha256 of its weights',
    labelNames: ['version', 'sha256'] as const,
    registers,
  });
  const engineInfo = new Gauge({
    name: name('engine_info'),
    help: 'Engines in use (value 1): scoring (onnx or tfjs), training gradients (onnx or tfjs), tfjs backend',
    labelNames: ['scoring', 'training', 'tfjs'] as const,
    registers,
  });

  return {
    registry,
    framesReceived: new Counter({
      name: name('frames_received_total'),
      help: 'Frames received from the camera connector',
      labelNames: ['camera'] as const,
      registers,
    }),
    framesDropped: new Counter({
      name: name('frames_dropped_total'),
      help: 'Frames dropped on purpose (backpressure, stale), by reason',
      labelNames: ['camera', 'reason'] as const,
      registers,
    }),
    framesRejected: new Counter({
      name: name('frames_rejected_total'),
      help: 'Frames rejected as bad input, by error code',
      labelNames: ['camera', 'reason'] as const,
      registers,
    }),
    stageDuration: new Histogram({
      name: name('stage_duration_seconds'),
      help: 'Time spent per frame in each pipeline stage',
      labelNames: ['stage'] as const,
      buckets: [...(options.stageBuckets ?? STAGE_DURATION_BUCKETS)],
      registers,
    }),
    frameLatency: new Histogram({
      name: name('frame_latency_seconds'),
      help: 'Latency from capture to published decision',
      labelNames: ['camera'] as const,
      buckets: [...(options.latencyBuckets ?? FRAME_LATENCY_BUCKETS)],
      registers,
    }),
    pixelsScored: new Counter({
      name: name('pixels_scored_total'),
      help: 'Pixels scored',
      registers,
    }),
    pixelsScoredEarly: new Counter({
      name: name('pixels_scored_early_total'),
      help: 'Pixels scored from early rows, while their block was still being captured',
      labelNames: ['camera'] as const,
      registers,
    }),
    anomalousPixelsRatio: new Gauge({
      name: name('anomalous_pixels_ratio'),
      help: 'Share of anomalous pixels in the last decided frame',
      labelNames: ['camera'] as const,
      registers,
    }),
    decisions: new Counter({
      name: name('decisions_total'),
      help: 'Decisions made, by verdict',
      labelNames: ['camera', 'anomalous'] as const,
      registers,
    }),
    threshold: new Gauge({
      name: name('threshold'),
      help: 'Current anomaly score threshold',
      labelNames: ['camera'] as const,
      registers,
    }),
    centerDrift: new Gauge({
      name: name('center_drift'),
      help: 'Distance of the online hypersphere centre from the trained centre',
      labelNames: ['camera'] as const,
      registers,
    }),
    queueDepth: new Gauge({
      name: name('queue_depth'),
      help: 'Frames waiting in the pipeline',
      labelNames: ['camera'] as const,
      registers,
    }),
    publishErrors: new Counter({
      name: name('publish_errors_total'),
      help: 'Failed publish attempts and messages dropped by a sink',
      labelNames: ['sink'] as const,
      registers,
    }),
    brokerConnected: new Gauge({
      name: name('broker_connected'),
      help: '1 while the sink is connected to its broker, else 0',
      labelNames: ['sink'] as const,
      registers,
    }),
    ejects: new Counter({
      name: name('ejects_total'),
      help: 'Eject commands sent to the valves',
      labelNames: ['camera'] as const,
      registers,
    }),
    ejectsLate: new Counter({
      name: name('ejects_late_total'),
      help: 'Eject commands not sent because their fire time had passed when they were planned',
      labelNames: ['camera'] as const,
      registers,
    }),
    ejectBudget: new Histogram({
      name: name('eject_budget_seconds'),
      help: 'Time left until the valves fire when an eject is planned (negative: late)',
      labelNames: ['camera'] as const,
      buckets: [-0.1, 0, 0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1, 2],
      registers,
    }),
    defectiveElements: new Gauge({
      name: name('defective_elements'),
      help: 'Stuck sensor elements (column x band) the pipeline repairs from neighbouring bands',
      labelNames: ['camera'] as const,
      registers,
    }),
    outboxPending: new Gauge({
      name: name('outbox_pending'),
      help: 'Decisions kept in the durable outbox of a sink, not yet acknowledged by its broker',
      labelNames: ['sink'] as const,
      registers,
    }),
    outboxReplayed: new Counter({
      name: name('outbox_replayed_total'),
      help: 'Decisions re-sent from the durable outbox of a sink after a restart',
      labelNames: ['sink'] as const,
      registers,
    }),
    sourceConnected: new Gauge({
      name: name('source_connected'),
      help: "1 while the camera's source is connected and running, else 0",
      labelNames: ['camera'] as const,
      registers,
    }),
    lastFrameTimestamp: new Gauge({
      name: name('last_frame_timestamp_seconds'),
      help: "When the camera's last frame entered the pipeline (seconds since the epoch)",
      labelNames: ['camera'] as const,
      registers,
    }),
    thresholdCalibrated: new Gauge({
      name: name('threshold_calibrated'),
      help: "Score threshold the model was calibrated at (the rolling threshold's seed)",
      labelNames: ['camera'] as const,
      registers,
    }),
    warmupComplete: new Gauge({
      name: name('warmup_complete'),
      help: 'Whether the scorer is warmed up and the first blocks are past (1), or not yet (0)',
      registers,
    }),
    captures: new Counter({
      name: name('captures_total'),
      help: 'Decided blocks saved by the capture sink, by kind (anomalous: to review; normal: sampled training data)',
      labelNames: ['camera', 'kind'] as const,
      registers,
    }),
    captureDropped: new Counter({
      name: name('capture_dropped_total'),
      help: 'Blocks the capture sink meant to save and did not, by reason',
      labelNames: ['camera', 'reason'] as const,
      registers,
    }),
    captureDeleted: new Counter({
      name: name('capture_deleted_total'),
      help: 'Captures deleted to keep the disk budget, oldest first (bytes: over maxBytes; age: older than maxAgeHours)',
      labelNames: ['reason'] as const,
      registers,
    }),
    captureBytes: new Gauge({
      name: name('capture_bytes'),
      help: 'Bytes of captures on disk under the capture sink folder',
      registers,
    }),
    modelSwitches: new Counter({
      name: name('model_switches_total'),
      help: 'Times the service switched to another model bundle while running (hot reload)',
      registers,
    }),
    modelRefused: new Counter({
      name: name('model_refused_total'),
      help: 'Model bundles a watched key pointed at that the service refused (the running model went on), by reason',
      labelNames: ['reason'] as const,
      registers,
    }),
    cameraState: new Counter({
      name: name('camera_state_total'),
      help: 'Camera state checkpoints of leased cameras: restored, fresh (none stored), refused, saved, failed',
      labelNames: ['camera', 'outcome'] as const,
      registers,
    }),
    modelInfo,
    engineInfo,
    setModelInfo(version: string, sha256: string): void {
      modelInfo.reset();
      modelInfo.set({ version, sha256 }, 1);
    },
    setEngineInfo(engines: EngineLabels): void {
      engineInfo.reset();
      engineInfo.set({ scoring: engines.scoring, training: engines.training, tfjs: engines.tfjs }, 1);
    },
  };
}
