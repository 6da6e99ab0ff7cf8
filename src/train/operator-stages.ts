import { type OperatorFunction, pipe } from 'rxjs';
import { bandpassByWavelength } from '../../operators/bandpass-by-wavelength.js';
import { deepSvddScorer, rxScorer, scorerFromBundle } from '../../operators/bundle-scorer.js';
import { perPixelUnitNorm } from '../../operators/per-pixel-unit-norm.js';
import { projectEmbeddings } from '../../operators/project-embeddings.js';
import { scoreDistance } from '../../operators/score-distance.js';
import { toTensorFrame } from '../../operators/to-tensor-frame.js';
import { trackCenter } from '../../operators/track-center.js';
import { whiten } from '../../operators/whiten.js';
import { zscoreNormalize } from '../../operators/zscore-normalize.js';
import type { CubeFrame } from '../core/frame.js';
import type { TensorFrame } from '../core/tensor-frame.js';
import type { TrainingStages } from './training-stages.js';

function version(modelVersion: string | undefined): { modelVersion?: string } {
  return modelVersion === undefined ? {} : { modelVersion };
}

/**
 * The inference operators as the trainer uses them (the {@link TrainingStages} port of
 * `src/train`): the same `bandpassByWavelength`, `perPixelUnitNorm`, `zscoreNormalize`,
 * `projectEmbeddings`, `trackCenter` (frozen) and `scoreDistance` a deployed pipeline runs, and
 * the deployed scorers of `bundle-scorer.ts`, so a trained model is validated, calibrated and
 * evaluated exactly as it will score in production.
 *
 * @example
 * ```ts
 * import { trainRun } from './train-run.js';
 * const result = await trainRun(trainConfig, { stages: trainingStages, write: (t) => process.stderr.write(t) });
 * ```
 */
export const trainingStages: TrainingStages = {
  preprocess(spec): OperatorFunction<CubeFrame, TensorFrame> {
    const bandpass: OperatorFunction<TensorFrame, TensorFrame> =
      spec.bandpass === undefined ? pipe() : bandpassByWavelength(spec.bandpass);
    const unitNorm: OperatorFunction<TensorFrame, TensorFrame> = spec.unitNorm ? perPixelUnitNorm() : pipe();
    return pipe(toTensorFrame(), bandpass, unitNorm);
  },
  embed: (zscore, project, whitening) =>
    pipe(
      zscoreNormalize(zscore),
      whitening === undefined ? pipe() : whiten(whitening),
      projectEmbeddings(project),
    ),
  score: (center, modelVersion) =>
    pipe(trackCenter({ center, mode: 'frozen' }), scoreDistance(version(modelVersion))),
  deepSvdd: (params, modelVersion) => deepSvddScorer(params, version(modelVersion)),
  rx: (model, modelVersion) =>
    rxScorer(
      { rx: model, wavelengths: new Float32Array(model.bands), wavelengthUnits: 'index' },
      version(modelVersion),
    ),
  fromBundle: (bundle) => scorerFromBundle(bundle),
};
