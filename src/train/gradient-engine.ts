import * as tf from '@tensorflow/tfjs';
import type { DeepSvddVariables } from './deep-svdd-variables.js';
import { OnnxGradients, type OnnxGradientsOptions } from './onnx/onnx-gradients.js';
import {
  type GradientEngine,
  type StepGradients,
  softBoundaryGradients,
  type TrainEngine,
  type TrainStepOptions,
} from './train-step.js';

/** The `trainer.engine` setting: an engine, or `auto` (see {@link resolveTrainEngine}). */
export type TrainEngineChoice = TrainEngine | 'auto';

/** Every {@link TrainEngineChoice}. */
export const TRAIN_ENGINE_CHOICES: readonly TrainEngineChoice[] = ['auto', 'onnx', 'tfjs'];

/**
 * The engine `auto` means: tfjs when it runs on native TensorFlow (`tfjs-node`, fast and
 * threaded), otherwise onnxruntime-node (the wasm and cpu backends are 7-20x slower at training).
 *
 * @param backend - the tfjs backend (default `tf.getBackend()`)
 * @example
 * ```ts
 * resolveTrainEngine('auto', 'wasm'); // 'onnx'
 * resolveTrainEngine('auto', 'tensorflow'); // 'tfjs'
 * ```
 */
export function resolveTrainEngine(choice: TrainEngineChoice = 'auto', backend?: string): TrainEngine {
  if (choice !== 'auto') return choice;
  return (backend ?? tf.getBackend()) === 'tensorflow' ? 'tfjs' : 'onnx';
}

/** {@link softBoundaryGradients} as a {@link GradientEngine} (nothing to free). */
class TfjsGradients implements GradientEngine {
  readonly name = 'tfjs';

  gradients(
    model: DeepSvddVariables,
    batch: tf.Tensor2D | Float32Array,
    options: TrainStepOptions,
  ): Promise<StepGradients> {
    try {
      const { z, d, ...step } = softBoundaryGradients(model, batch, options);
      z.dispose();
      d.dispose();
      return Promise.resolve(step);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  dispose(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * The gradient engine of a training run: `tfjs` computes on the current tfjs backend,
 * `onnx` on onnxruntime-node ({@link OnnxGradients}, `onnx` options apply), `auto` as
 * {@link resolveTrainEngine} decides. Dispose it when the run ends.
 *
 * @example
 * ```ts
 * import { trainStepWith } from './train-step.js';
 * const engine = createGradientEngine('auto', { threads: 2 });
 * try { await trainStepWith(engine, model, optimizer, batch, { nu: 0.05 }); } finally { await engine.dispose(); }
 * ```
 */
export function createGradientEngine(
  choice: TrainEngineChoice = 'auto',
  onnx: OnnxGradientsOptions = {},
): GradientEngine {
  return resolveTrainEngine(choice) === 'onnx' ? new OnnxGradients(onnx) : new TfjsGradients();
}
