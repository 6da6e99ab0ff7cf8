import type { TrainerOptions } from './trainer.js';
import type { TrainrunConfig } from './trainrun-schema.js';

/**
 * The gradient-phase options a trainrun config sets (`trainer.*` and `seed`), shared by
 * `cubestream train` and `eval --scene`; callers add progress and callbacks.
 *
 * @example
 * ```ts
 * import { createProgress } from './progress.js';
 * import type { StatisticalInit } from './statistical-init.js';
 * import { trainDeepSvdd } from './trainer.js';
 * declare const init: StatisticalInit; // from statisticalInit
 * const progress = createProgress((t) => process.stderr.write(t), { epochs: trainConfig.trainer.epochs, tty: false });
 * await trainDeepSvdd(init, init.reservoir.toFrame(), { ...trainerOptionsOf(trainConfig), progress });
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
