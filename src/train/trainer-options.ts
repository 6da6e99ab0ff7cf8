import type { TrainerOptions } from './trainer.js';
import type { TrainrunConfig } from './trainrun-schema.js';

/**
 * The gradient-phase options a trainrun config sets (`trainer.*` and `seed`), shared by
 * `cubestream train` and `eval --scene`; callers add progress and callbacks.
 *
 * @example
 * ```ts
 * await trainDeepSvdd(init, pixels, { ...trainerOptionsOf(config), progress });
 * ```
 */
export function trainerOptionsOf(config: TrainrunConfig): TrainerOptions {
  const { trainer } = config;
  return {
    epochs: trainer.epochs,
    batchSize: trainer.batchSize,
    ...(trainer.stepsPerEpoch === undefined ? {} : { stepsPerEpoch: trainer.stepsPerEpoch }),
    lr: trainer.lr,
    weightDecay: trainer.weightDecay,
    maxGradNorm: trainer.maxGradNorm,
    nu: trainer.nu,
    centerAlpha: trainer.centerAlpha,
    loss: trainer.loss,
    trim: trainer.trim,
    engine: trainer.engine,
    seed: config.seed,
    schedule: trainer.stages,
  };
}
