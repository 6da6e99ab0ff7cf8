import { OptionError } from '../../core/options.js';
import { MonitorMetricError } from '../train-errors.js';

/** Metrics of one finished epoch, by name (e.g. `loss`, `val_loss`, `val_auroc`, `lr`). */
export type EpochLogs = Readonly<Record<string, number>>;

/** What a callback asks of the trainer after an epoch. */
export interface CallbackResult {
  /** Stop training after this epoch. */
  readonly stop?: boolean;
  /** Why, for the log (e.g. "val_loss did not improve for 5 epochs"). */
  readonly reason?: string;
}

/**
 * A hook the trainer calls after every epoch, in order, with that epoch's logs.
 *
 * @example
 * ```ts
 * const printer: Callback = { name: 'print', onEpochEnd: (epoch, logs) => { console.log(epoch, logs.loss); return {}; } };
 * ```
 */
export interface Callback {
  /** Name for logs and errors. */
  readonly name: string;
  /** Called once per epoch (numbered from 1, as in the logs) after training and validation of that epoch. */
  onEpochEnd(epoch: number, logs: EpochLogs): CallbackResult | Promise<CallbackResult>;
}

/** Whether a monitored metric should go down (`min`, losses) or up (`max`, AUROC). */
export type MonitorMode = 'min' | 'max';

/** The monitored-metric options shared by every callback. */
export interface MonitorOptions {
  /** Metric name in the epoch logs (default `loss`). */
  monitor?: string;
  /** `min` (default) or `max`. */
  mode?: MonitorMode;
  /** Smallest change that counts as an improvement, absolute (default 0). */
  minDelta?: number;
}

/** A resolved monitor: reads the metric and compares values. */
export interface Monitor {
  readonly monitor: string;
  readonly mode: MonitorMode;
  readonly minDelta: number;
  /** The metric from the logs; throws {@link MonitorMetricError} when absent. */
  read(logs: EpochLogs): number;
  /** Whether `current` beats `best` by more than minDelta (NaN never does; anything beats undefined). */
  improves(current: number, best: number | undefined): boolean;
}

/**
 * Resolves {@link MonitorOptions} for callback `callback` (validating them).
 *
 * @throws {@link OptionError} for an unknown mode or a negative / non-finite minDelta
 */
export function createMonitor(callback: string, options: MonitorOptions): Monitor {
  const monitor = options.monitor ?? 'loss';
  const mode = options.mode ?? 'min';
  if (mode !== 'min' && mode !== 'max')
    throw new OptionError('training', `${callback}.mode`, mode, 'must be "min" or "max"');
  const minDelta = options.minDelta ?? 0;
  if (!(Number.isFinite(minDelta) && minDelta >= 0)) {
    throw new OptionError('training', `${callback}.minDelta`, minDelta, 'must be finite and >= 0');
  }
  return {
    monitor,
    mode,
    minDelta,
    read(logs) {
      const value = logs[monitor];
      if (value === undefined) throw new MonitorMetricError(callback, monitor, Object.keys(logs));
      return value;
    },
    improves(current, best) {
      if (Number.isNaN(current)) return false;
      if (best === undefined || Number.isNaN(best)) return true;
      return mode === 'min' ? current < best - minDelta : current > best + minDelta;
    },
  };
}

/** Checks that `value` is an integer >= `min` (options of callbacks). */
export function checkInteger(option: string, value: number, min: number): number {
  if (!Number.isSafeInteger(value) || value < min)
    throw new OptionError('training', option, value, `must be an integer >= ${min}`);
  return value;
}

/**
 * Calls every callback's `onEpochEnd` in order (awaiting each) and merges their answers: the
 * trainer stops if any callback asks to; the reasons are joined.
 *
 * @example
 * ```ts
 * import { EarlyStopping } from './early-stopping.js';
 * const earlyStopping = new EarlyStopping({ monitor: 'val_loss', mode: 'min', patience: 5 });
 * for (let epoch = 1; epoch <= 100; epoch++) {
 *   const logs = { loss: 1 / epoch, val_loss: 1 / epoch }; // ... train one epoch, validate
 *   const { stop, reasons } = await runCallbacks([earlyStopping], epoch, logs);
 *   if (stop) break;
 * }
 * ```
 */
export async function runCallbacks(
  callbacks: readonly Callback[],
  epoch: number,
  logs: EpochLogs,
): Promise<{ stop: boolean; reasons: string[] }> {
  let stop = false;
  const reasons: string[] = [];
  for (const callback of callbacks) {
    const result = await callback.onEpochEnd(epoch, logs);
    if (result.stop === true) {
      stop = true;
      reasons.push(result.reason ?? `${callback.name} asked to stop`);
    }
  }
  return { stop, reasons };
}
