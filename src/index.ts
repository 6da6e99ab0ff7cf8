/**
 * cubestream's root entry point (`import … from 'cubestream'`): what a Node service needs around
 * the operators (`cubestream/operators`) and connectors (`cubestream/connectors`) to run a
 * pipeline: the frame and decision types and their wire codecs, the error classes, camera ids,
 * model bundles, the scoring engines, and the logger and metrics the sinks report to.
 * ENVI and safetensors files are in `cubestream/io`.
 *
 * @example
 * ```ts
 * import { encodeDecision, loadBundle } from 'cubestream';
 * import { deepSvddPipeline } from 'cubestream/operators';
 * import { simulatedLineScan } from 'cubestream/connectors';
 *
 * const bundle = await loadBundle('models/lentils');
 * simulatedLineScan({ maxBlocks: 10 })
 *   .frames.pipe(deepSvddPipeline(bundle))
 *   .subscribe((f) => console.log(encodeDecision(f.decision)));
 * ```
 *
 * @packageDocumentation
 */

/** Decision codec: parses and validates the decision JSON a subscriber receives. */
export { InvalidDecisionError, parseDecision } from '../connectors/codec/decision-json.js';
/** Frame codec: the safetensors wire format of a cube frame on MQTT and NATS (docs/wire-format.md §2). */
export {
  type DecodeFrameOptions,
  decodeFrameMessage,
  type EncodeFrameOptions,
  encodeFrameMessage,
  type WireCubeDtype,
} from '../connectors/codec/frame-safetensors.js';
/** Camera ids: the one rule every source, sink and topic applies. */
export { CAMERA_ID_PATTERN, CAMERA_ID_RULE, isCameraId } from './core/camera-id.js';
/** A configuration that failed validation, with every issue and its path. */
export { ConfigError, type ConfigIssue } from './core/config-error.js';
/** The decision message of docs/wire-format.md §2 (type, zod schema, encoder) and the frame that carries it. */
export {
  type Blob,
  blobSchema,
  DECISION_SCHEMA,
  type DecidedFrame,
  type Decision,
  decisionSchema,
  encodeDecision,
} from './core/decision.js';
/** The base class of every cubestream error (a stable `code` and a `cause`), and the thrown-value-to-Error helper. */
export { asError, CubestreamError } from './core/errors.js';
/** Cube frames: the unit every source emits and every operator consumes, and their validation. */
export {
  type CubeFrame,
  type CubeFrameInit,
  createFrame,
  DEFAULT_CAMERA_ID,
  DEFAULT_MAX_FRAME_VALUES,
  FRAME_REJECT_REASONS,
  type FrameLimits,
  type FrameRejectReason,
  InvalidFrameError,
  isLastBlock,
  isRadiometry,
  pixelCount,
  RADIOMETRIES,
  type Radiometry,
  validateFrame,
  type WavelengthUnits,
} from './core/frame.js';
/** The one error of a bad option (code `options`) of any component, and its check. */
export { checkOption, OPTION_ERROR_CODE, OptionError } from './core/options.js';
/** Reflectance from camera counts, `(DN - dark) / (white - dark)`: references, gains, the conversion. */
export {
  applyReflectance,
  applyReflectanceRow,
  type ReflectanceGains,
  type ReflectanceReferences,
  ReflectanceReferencesError,
  reflectanceGains,
} from './core/reflectance.js';
/** Progress of a block still being captured, for scorers that score rows ahead. */
export type { RowsReady } from './core/rows-ready.js';
/** Frames after scoring and after thresholding. */
export type { FrameIdentity, ScoredFrame, ThresholdedFrame } from './core/scored-frame.js';
/** Frames on the tfjs engine, between the tensor operators. */
export type { CenteredTensorFrame, TensorFrame } from './core/tensor-frame.js';
/** The τ a pipeline currently applies per camera. */
export type { ThresholdState } from './core/threshold-state.js';
/** Model bundles: the versioned folder a pipeline loads (manifest, calibration, card, weights). */
export {
  BUNDLE_SCHEMA,
  BundleError,
  type BundleManifest,
  type Calibration,
  type LoadedBundle,
  loadBundle,
  type ModelBundle,
  type ModelCard,
  saveBundle,
} from './model/bundle.js';
/** A detector's parameters, read from a bundle, for the single-stage operators of `cubestream/operators`. */
export type { DeepSvddParams, ProjectionWeights } from './model/deep-svdd-params.js';
/** Reads a Deep SVDD or RX detector out of a bundle (the operators' parameters). */
export { deepSvddFromBundle, type RxDetector, rxFromBundle } from './model/detector-bundle.js';
/** Errors of a bundle's parameters, and of a frame that does not fit the model's input. */
export {
  ChannelCountError,
  ModelParamsError,
  WavelengthSelectionError,
} from './model/model-errors.js';
/** Dark and white references on disk (what `cubestream calibrate` writes), their averaging and staleness warnings. */
export {
  averageLines,
  loadReferences,
  REFERENCE_FILES,
  REFERENCES_SCHEMA,
  type ReferenceSettings,
  ReferencesFileError,
  type ReferenceWarningOptions,
  referenceWarnings,
  type StoredReferences,
  saveReferences,
} from './model/radiometric-references.js';
/** The tfjs engine: which backend the `tfjs` scorer runs on. */
export {
  currentEngine,
  type EngineBackend,
  type EngineBackendRequest,
  EngineError,
  type EngineInfo,
  type EngineOptions,
  initEngine,
} from './scoring/engine.js';
/** The `onnx` scorer's runner: what scores pixel chunks, in this thread or in a worker pool. */
export type { ChunkRunner } from './scoring/onnx/chunk-runner.js';
/** Builds an `onnx` runner to share between the fused operators (their `runner` option). */
export { type ChunkRunnerOptions, createChunkRunner } from './scoring/onnx/create-chunk-runner.js';
/** Errors of the onnx scorer: a graph that cannot be built, an onnxruntime failure. */
export { OnnxGraphError, OnnxRuntimeError } from './scoring/onnx/onnx-errors.js';
/** A bundle's scorer, chosen once, owning its workers: warm it, hand it to pipelines (`scoreWith`), close it. */
export {
  type CreateScorerOptions,
  createScorer,
  type Scorer,
  type ScorerChoice,
  type ScorerEngine,
} from './scoring/scorer.js';
/** A sink's health as reported to `/readyz`. */
export type { HealthCheck } from './telemetry/health.js';
/** The pino logger the connectors and the service log through. */
export { createLogger, type Logger, type LoggerOptions, type LogLevel } from './telemetry/logger.js';
/** The Prometheus metrics of docs/metrics.md, as the sinks and the service update them. */
export { type CubestreamMetrics, createMetrics, type MetricsOptions } from './telemetry/metrics.js';
