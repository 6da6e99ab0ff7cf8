import type { OperatorFunction } from 'rxjs';
import type { CubeFrame } from '../core/frame.js';
import type { ScoredFrame } from '../core/scored-frame.js';
import type { TensorFrame } from '../core/tensor-frame.js';
import type { BandpassRange } from '../model/band-selection.js';
import type { ModelBundle } from '../model/bundle.js';
import type { DeepSvddParams, ProjectionWeights } from '../model/deep-svdd-params.js';
import type { WhiteningParams } from '../model/robust-whitening.js';
import type { ZscoreStats } from '../model/running-stats.js';
import type { RxModel } from '../model/rx-stats.js';

/** The input stages of the Deep SVDD pipeline before the first learned parameter. */
export interface PreprocessSpec {
  /** Band-pass range; absent: every band is kept (sensors with band indices only). */
  readonly bandpass?: BandpassRange;
  /** Whether the per-pixel unit norm runs. */
  readonly unitNorm: boolean;
}

/**
 * The inference operators the trainer reuses (docs/architecture.md: training reuses the
 * inference operators and only adds the loss and the optimiser). The trainer receives them through
 * this port, so a test can hand it other stages; `src/train/operator-stages.ts` provides the
 * real ones: `toTensorFrame`, `bandpassByWavelength`, `perPixelUnitNorm`, `zscoreNormalize`,
 * `projectEmbeddings`, `trackCenter` + `scoreDistance` for the statistical phase, and the
 * deployed scorers of `operators/bundle-scorer.ts` for validation, calibration and evaluation.
 *
 * Every factory returns a fresh operator; its tensors live per subscription (see `TensorFrame`
 * for the ownership rule).
 *
 * @example
 * ```ts
 * import { trainingStages } from './operator-stages.js';
 * import { trainRun } from './train-run.js';
 * await trainRun(trainConfig, { stages: trainingStages });
 * ```
 */
export interface TrainingStages {
  /** `CubeFrame` -> `TensorFrame`: upload, band-pass (when given), unit norm (when on). */
  preprocess(spec: PreprocessSpec): OperatorFunction<CubeFrame, TensorFrame>;
  /** Preprocessed pixels -> embeddings: z-score, the whitening (when given), then the projection network. */
  embed(
    zscore: ZscoreStats,
    project: Pick<ProjectionWeights, 'W1' | 'b1' | 'W2' | 'residual'>,
    whiten?: WhiteningParams,
  ): OperatorFunction<TensorFrame, TensorFrame>;
  /** Embeddings -> scores ||z - c||² with a frozen centre. */
  score(center: Float32Array, modelVersion?: string): OperatorFunction<TensorFrame, ScoredFrame>;
  /** The whole Deep SVDD scorer as deployed (frozen centre): `CubeFrame` -> `ScoredFrame`. */
  deepSvdd(params: DeepSvddParams, modelVersion?: string): OperatorFunction<CubeFrame, ScoredFrame>;
  /** Raw frames -> RX scores (docs/maths.md §3.10). */
  rx(model: RxModel, modelVersion?: string): OperatorFunction<CubeFrame, ScoredFrame>;
  /** The scorer a bundle describes (Deep SVDD or RX), frozen centre. */
  fromBundle(bundle: ModelBundle): OperatorFunction<CubeFrame, ScoredFrame>;
}
