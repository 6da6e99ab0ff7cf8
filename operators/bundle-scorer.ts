import { type OperatorFunction, pipe } from 'rxjs';
import type { CubeFrame } from '../src/core/frame.js';
import type { ScoredFrame } from '../src/core/scored-frame.js';
import type { TensorFrame } from '../src/core/tensor-frame.js';
import type { ModelBundle } from '../src/model/bundle.js';
import type { DeepSvddParams } from '../src/model/deep-svdd-params.js';
import { deepSvddFromBundle, type RxDetector, rxFromBundle } from '../src/model/detector-bundle.js';
import { ModelParamsError } from '../src/model/model-errors.js';
import type { CameraCheckpoints } from '../src/scoring/camera-checkpoints.js';
import { bandpassByWavelength } from './bandpass-by-wavelength.js';
import { type StageTimer, timedStage } from './internal/timed-stage.js';
import { perPixelUnitNorm } from './per-pixel-unit-norm.js';
import { projectEmbeddings } from './project-embeddings.js';
import { rxScore } from './rx-score.js';
import { scoreDistance } from './score-distance.js';
import { toTensorFrame } from './to-tensor-frame.js';
import { type CenterMode, trackCenter } from './track-center.js';
import { whiten } from './whiten.js';
import { zscoreNormalize } from './zscore-normalize.js';

/** How the scorer tracks the hypersphere centre online (docs/maths.md §3.5). */
export interface CenterTracking {
  /** `frozen` (cuvis), `ema`, or `gated-ema` (pixels judged normal only; default). */
  readonly mode: CenterMode;
  /** EMA rate α (small, e.g. 0.001-0.01). */
  readonly alpha?: number;
  /** Current threshold per camera, for `gated-ema`. */
  readonly gate?: (cameraId: string) => number;
  /** Called after each centre update with its drift from the trained centre. */
  readonly onUpdate?: (center: Float32Array, drift: number, cameraId: string) => void;
  /** Lends the centres to these checkpoints while subscribed (see `CenterTrackerOptions.checkpoints`). */
  readonly checkpoints?: CameraCheckpoints;
}

/** Options of the scorers. */
export interface ScorerOptions {
  /** Centre tracking (Deep SVDD only; default frozen). */
  readonly center?: CenterTracking;
  /** Written into each scored frame (decisions carry it). */
  readonly modelVersion?: string;
  /** Receives per-stage durations (`stage_duration_seconds{stage}`). */
  readonly onStage?: StageTimer;
}

/**
 * The Deep SVDD scoring chain of docs/maths.md §3 on tfjs: upload, band-pass (when the model has one),
 * unit norm (when enabled), z-score, whitening (when the model has one), projection, centre tracking, squared distance. Frames must
 * already match the model's input (see `rejectInvalidFrames`).
 *
 * @example
 * ```ts
 * import { rollingQuantileThreshold } from 'cubestream/operators';
 * const threshold = rollingQuantileThreshold({ q: 0.999, window: { frames: 100 }, seed: bundle.calibration.threshold });
 * const gate = (camera: string) => threshold.state.current(camera);
 * frames$.pipe(deepSvddScorer(params, { center: { mode: 'gated-ema', alpha: 0.005, gate } }), threshold)
 * ```
 */
export function deepSvddScorer(
  params: DeepSvddParams,
  options: ScorerOptions = {},
): OperatorFunction<CubeFrame, ScoredFrame> {
  const t = <A, B>(stage: string, op: OperatorFunction<A, B>) => timedStage(stage, op, options.onStage);
  const center = options.center ?? { mode: 'frozen' };
  const bandpass: OperatorFunction<TensorFrame, TensorFrame> =
    params.bandpass === undefined ? pipe() : t('bandpass', bandpassByWavelength(params.bandpass));
  const unitNorm: OperatorFunction<TensorFrame, TensorFrame> = params.unitNorm
    ? t('unitNorm', perPixelUnitNorm())
    : pipe();
  const whitening: OperatorFunction<TensorFrame, TensorFrame> =
    params.whiten === undefined ? pipe() : t('whiten', whiten(params.whiten));
  return pipe(
    t('upload', toTensorFrame()),
    bandpass,
    unitNorm,
    t('zscore', zscoreNormalize(params.zscore)),
    whitening,
    t('project', projectEmbeddings(params.project)),
    t(
      'trackCenter',
      trackCenter({
        center: params.center,
        mode: center.mode,
        ...(center.alpha === undefined ? {} : { alpha: center.alpha }),
        ...(center.gate === undefined ? {} : { gate: center.gate }),
        ...(center.onUpdate === undefined ? {} : { onUpdate: center.onUpdate }),
        ...(center.checkpoints === undefined ? {} : { checkpoints: center.checkpoints }),
      }),
    ),
    t(
      'score',
      scoreDistance(options.modelVersion === undefined ? {} : { modelVersion: options.modelVersion }),
    ),
  );
}

/** The RX baseline (docs/maths.md §3.10) as a scorer: upload, Mahalanobis distance. */
export function rxScorer(
  detector: RxDetector,
  options: ScorerOptions = {},
): OperatorFunction<CubeFrame, ScoredFrame> {
  return pipe(
    timedStage('upload', toTensorFrame(), options.onStage),
    timedStage(
      'rx',
      rxScore(detector.rx, options.modelVersion === undefined ? {} : { modelVersion: options.modelVersion }),
      options.onStage,
    ),
  );
}

/**
 * The scorer a bundle describes: Deep SVDD or RX, chosen by `manifest.detector`. The model
 * version defaults to the bundle's.
 *
 * @throws {@link ModelParamsError} for a detector this build does not know
 */
export function scorerFromBundle(
  bundle: ModelBundle,
  options: ScorerOptions = {},
): OperatorFunction<CubeFrame, ScoredFrame> {
  const withVersion = { ...options, modelVersion: options.modelVersion ?? bundle.manifest.version };
  switch (bundle.manifest.detector) {
    case 'deep-svdd':
      return deepSvddScorer(deepSvddFromBundle(bundle), withVersion);
    case 'rx':
      return rxScorer(rxFromBundle(bundle), withVersion);
    default:
      throw new ModelParamsError(
        'detector',
        `"${bundle.manifest.detector}" is not a detector this cubestream knows (deep-svdd, rx)`,
      );
  }
}
