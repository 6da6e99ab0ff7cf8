import { OptionError } from '../../core/options.js';
import type { LearningRateControl } from '../adamw.js';
import {
  type Callback,
  type CallbackResult,
  checkInteger,
  createMonitor,
  type EpochLogs,
  type Monitor,
  type MonitorOptions,
} from './callback.js';

/** Options of {@link ReduceLROnPlateau} (plain data, as in a trainrun YAML). */
export interface ReduceLROnPlateauOptions extends MonitorOptions {
  /** Multiplier applied to the learning rate, in (0, 1) (default 0.1). */
  factor?: number;
  /** Bad epochs tolerated; the rate drops at the (patience+1)-th (default 10, as PyTorch). */
  patience?: number;
  /** Floor of the learning rate (default 0). */
  minLr?: number;
  /** Epochs after a reduction during which bad epochs are not counted (default 0). */
  cooldown?: number;
}

/**
 * Lowers the learning rate of every optimizer group by `factor` (not below `minLr`) when the
 * monitored metric has not improved for more than `patience` epochs, as PyTorch's
 * `ReduceLROnPlateau` does (with an absolute `minDelta` as threshold), then waits `cooldown`
 * epochs before counting again.
 *
 * @example
 * ```ts
 * const plateau = new ReduceLROnPlateau(optimizer, { monitor: 'val_loss', factor: 0.5, patience: 3, minLr: 1e-6 });
 * ```
 */
export class ReduceLROnPlateau implements Callback {
  readonly name = 'reduceLrOnPlateau';
  /** Best value seen so far. */
  best: number | undefined;
  /** Epochs at which the rate was lowered. */
  readonly reductions: number[] = [];
  private readonly target: LearningRateControl;
  private readonly monitor: Monitor;
  private readonly factor: number;
  private readonly patience: number;
  private readonly minLr: number;
  private readonly cooldown: number;
  private badEpochs = 0;
  private cooldownLeft = 0;

  /** @throws {@link OptionError} for a factor outside (0, 1), negative patience / cooldown / minLr */
  constructor(target: LearningRateControl, options: ReduceLROnPlateauOptions = {}) {
    this.target = target;
    this.monitor = createMonitor(this.name, options);
    this.factor = options.factor ?? 0.1;
    if (!(this.factor > 0 && this.factor < 1))
      throw new OptionError('training', `${this.name}.factor`, this.factor, 'must be in (0, 1)');
    this.patience = checkInteger(`${this.name}.patience`, options.patience ?? 10, 0);
    this.cooldown = checkInteger(`${this.name}.cooldown`, options.cooldown ?? 0, 0);
    this.minLr = options.minLr ?? 0;
    if (!(Number.isFinite(this.minLr) && this.minLr >= 0))
      throw new OptionError('training', `${this.name}.minLr`, this.minLr, 'must be finite and >= 0');
  }

  /** @throws {@link MonitorMetricError} when the logs lack the monitored metric */
  onEpochEnd(epoch: number, logs: EpochLogs): CallbackResult {
    const current = this.monitor.read(logs);
    if (this.monitor.improves(current, this.best)) {
      this.best = current;
      this.badEpochs = 0;
    } else {
      this.badEpochs += 1;
    }
    if (this.cooldownLeft > 0) {
      this.cooldownLeft -= 1;
      this.badEpochs = 0;
    }
    if (this.badEpochs > this.patience) {
      let lowered = false;
      this.target.learningRates().forEach((lr, group) => {
        const next = Math.max(lr * this.factor, this.minLr);
        // PyTorch skips changes smaller than 1e-8.
        if (lr - next > 1e-8) {
          this.target.setLearningRate(next, group);
          lowered = true;
        }
      });
      if (lowered) this.reductions.push(epoch);
      this.cooldownLeft = this.cooldown;
      this.badEpochs = 0;
    }
    return {};
  }
}
