import { OptionError } from '../../core/options.js';
import {
  type Callback,
  type CallbackResult,
  checkInteger,
  createMonitor,
  type EpochLogs,
  type Monitor,
  type MonitorOptions,
} from './callback.js';

/** Options of {@link EarlyStopping} (plain data, as in a trainrun YAML). */
export interface EarlyStoppingOptions extends MonitorOptions {
  /** Epochs without improvement after which training stops (default 10). */
  patience?: number;
}

/**
 * Stops training when the monitored metric has not improved by more than `minDelta` for
 * `patience` consecutive epochs (Keras / Lightning semantics). A NaN metric never improves.
 *
 * @example
 * ```ts
 * const early = new EarlyStopping({ monitor: 'val_loss', mode: 'min', patience: 5, minDelta: 1e-4 });
 * // after the run: early.bestEpoch, early.best, early.stoppedEpoch
 * ```
 */
export class EarlyStopping implements Callback {
  readonly name = 'earlyStopping';
  /** Best value seen so far (undefined before the first epoch). */
  best: number | undefined;
  /** Epoch of the best value (-1 before the first epoch). */
  bestEpoch = -1;
  /** Epoch at which a stop was requested (-1 while running). */
  stoppedEpoch = -1;
  private readonly monitor: Monitor;
  private readonly patience: number;
  private wait = 0;

  /** @throws {@link OptionError} for a negative patience or bad monitor options */
  constructor(options: EarlyStoppingOptions = {}) {
    this.monitor = createMonitor(this.name, options);
    this.patience = checkInteger(`${this.name}.patience`, options.patience ?? 10, 0);
  }

  /** @throws {@link MonitorMetricError} when the logs lack the monitored metric */
  onEpochEnd(epoch: number, logs: EpochLogs): CallbackResult {
    const current = this.monitor.read(logs);
    if (this.monitor.improves(current, this.best)) {
      this.best = current;
      this.bestEpoch = epoch;
      this.wait = 0;
      return {};
    }
    this.wait += 1;
    if (this.wait < this.patience) return {};
    this.stoppedEpoch = epoch;
    return {
      stop: true,
      reason: `${this.monitor.monitor} did not improve for ${this.wait} epochs (best ${this.best} at epoch ${this.bestEpoch})`,
    };
  }
}
