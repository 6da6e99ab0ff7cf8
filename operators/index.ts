/**
 * `cubestream/operators`: the detector as RxJS operators. {@link deepSvddPipeline} is the whole
 * of docs/maths.md §3 in one operator; the others are its stages, for pipelines composed by hand. The
 * frame, decision and bundle types they take are exported by `cubestream`.
 *
 * @example
 * ```ts
 * import { loadBundle } from 'cubestream';
 * import { deepSvddPipeline } from 'cubestream/operators';
 *
 * const detect = deepSvddPipeline(await loadBundle('models/lentils'), { scorerWorkers: 1 });
 * camera.frames.pipe(detect).subscribe((f) => sink.publish(f.decision));
 * ```
 *
 * @packageDocumentation
 */

/** A bounded queue in front of an asynchronous stage; the camera never waits. */
export {
  type BackpressureOptions,
  type BackpressurePolicy,
  backpressure,
  DROP_REASONS,
  type DropReason,
  QueueOverflowError,
} from './backpressure.js';
/** Keeps the bands inside a wavelength range. */
export { type BandpassOptions, bandpassByWavelength } from './bandpass-by-wavelength.js';
/** The tfjs scorer of a bundle: frames in, pixel scores out. */
export {
  type CenterTracking,
  deepSvddScorer,
  rxScorer,
  type ScorerOptions,
  scorerFromBundle,
} from './bundle-scorer.js';
/** Frame verdicts with blobs, and the decision message for each frame or block. */
export {
  BlockMismatchError,
  type DecideAnomaliesOptions,
  decideAnomalies,
} from './decide-anomalies.js';
/** The whole detector as one operator, its options and the engine it picks. */
export {
  chooseScorer,
  type DeepSvddPipeline,
  deepSvddPipeline,
  type PipelineHooks,
  type PipelineOptions,
  type ScorerEngine,
} from './deep-svdd-pipeline.js';
/** The onnx Deep SVDD scorer: the bundle's stages fused into one onnxruntime graph. */
export {
  type FrameScored,
  type FusedDeepSvddScoreOptions,
  fusedDeepSvddScore,
} from './fused-deep-svdd-score.js';
/** The onnx RX scorer. */
export { type FusedRxScoreOptions, fusedRxScore } from './fused-rx-score.js';
/** The onnx scorer of a bundle, Deep SVDD or RX. */
export { type FusedScorerOptions, fusedScorerFromBundle } from './fused-scorer-from-bundle.js';
/** Scales each pixel's spectrum to unit length. */
export { type PerPixelUnitNormOptions, perPixelUnitNorm } from './per-pixel-unit-norm.js';
/** The pipeline's settings as one zod schema (the home of their defaults), e.g. to validate a config section. */
export {
  PIPELINE_DEFAULTS,
  type PipelineSettings,
  PipelineSettingsSchema,
  type ResolvedPipelineSettings,
  type ThresholdOptions,
} from './pipeline-options.js';
/** The Deep SVDD projection network, pixel by pixel. */
export { type ProjectOptions, projectEmbeddings } from './project-embeddings.js';
/**
 * τ as a quantile of each frame's own scores, and the error for a non-finite score met while
 * thresholding (a bad option of any operator is the core `OptionError`).
 */
export {
  DEFAULT_QUANTILE,
  NonFiniteScoreError,
  type QuantileThresholdOptions,
  quantileThreshold,
} from './quantile-threshold.js';
/** Camera counts to reflectance with dark and white references, for sources that deliver counts. */
export {
  type RadiometricCalibrationOptions,
  radiometricCalibration,
} from './radiometric-calibration.js';
/** Drops frames that fail validation, reporting each; the stream goes on. */
export { type RejectInvalidFramesOptions, rejectInvalidFrames } from './reject-invalid-frames.js';
/** τ as a quantile over a rolling window of recent frames, seeded from calibration. */
export {
  type RollingQuantileThreshold,
  type RollingQuantileThresholdOptions,
  type RollingThresholdedFrame,
  rollingQuantileThreshold,
} from './rolling-quantile-threshold.js';
/** The RX (Mahalanobis) score of each pixel. */
export { type RxScoreOptions, rxScore } from './rx-score.js';
/** The squared distance of each embedding to the centre: the Deep SVDD score. */
export { type ScoreDistanceOptions, scoreDistance } from './score-distance.js';
/** Moves a cube frame onto the tfjs engine. */
export { toTensorFrame } from './to-tensor-frame.js';
/** The online centre: frozen, EMA, or EMA gated by τ. */
export {
  type CenterMode,
  DEFAULT_CENTER_ALPHA,
  type TrackCenterOptions,
  trackCenter,
} from './track-center.js';
/** Robust whitening of each pixel. */
export { whiten } from './whiten.js';
/** Per-band z-score normalisation. */
export { type ZscoreOptions, zscoreNormalize } from './zscore-normalize.js';
