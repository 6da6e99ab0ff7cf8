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
  /**
   * Epoch of the best value, as numbered by the trainer (from 1; 0 before the first epoch): the
   * last epoch that improved on the one before it by more than `minDelta`.
   */
  bestEpoch = 0;
  /** Epoch at which a stop was requested (0 while running). */
  stoppedEpoch = 0;
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
    const { monitor, minDelta } = this.monitor;
    const best = this.best === undefined ? 'none' : String(Number(this.best.toPrecision(6)));
    // With a minDelta, a later epoch may still be slightly better (and be the best checkpoint):
    // the reason names the last epoch that improved by more than minDelta.
    return {
      stop: true,
      reason:
        minDelta > 0
          ? `${monitor} did not improve by more than ${minDelta} for ${this.wait} epochs (last such improvement: ${best} at epoch ${this.bestEpoch})`
          : `${monitor} did not improve for ${this.wait} epochs (best ${best} at epoch ${this.bestEpoch})`,
    };
  }
}
