import type { EpochLogs } from './callbacks/callback.js';

/** Where the trainer reports progress. */
export interface TrainProgress {
  /** After every optimisation step. */
  step(epoch: number, step: number, steps: number, loss: number): void;
  /** After every epoch (training, validation and callbacks done). */
  epoch(epoch: number, logs: EpochLogs, seconds: number): void;
  /** A free-form note (a stage unfrozen, early stop, a restored checkpoint). */
  note(text: string): void;
}

/** Options of {@link createProgress}. */
export interface ProgressOptions {
  /** Epochs planned (for "epoch 3/20"). */
  readonly epochs: number;
  /** Redraw one `\r` line per step (a terminal) instead of printing a line per epoch. */
  readonly tty: boolean;
  /** The metric the callbacks watch, shown after loss and lr (when present in the logs). */
  readonly monitor?: string;
  /** Width of the bar in characters (default 24). */
  readonly barWidth?: number;
}

function format(value: number | undefined): string {
  if (value === undefined || Number.isNaN(value)) return 'n/a';
  const magnitude = Math.abs(value);
  return magnitude !== 0 && (magnitude < 1e-3 || magnitude >= 1e5)
    ? value.toExponential(3)
    : value.toFixed(4);
}

/**
 * The epoch line: `epoch 3/20  loss 0.0123  lr 1.00e-3  val_auroc 0.9912  4.1 s`.
 *
 * @example
 * ```ts
 * epochLine(2, 20, { loss: 0.0123, lr: 0.001, val_auroc: 0.9912 }, 'val_auroc', 4.1);
 * ```
 */
export function epochLine(
  epoch: number,
  epochs: number,
  logs: EpochLogs,
  monitor: string | undefined,
  seconds: number,
): string {
  const lr = logs.lr === undefined || Number.isNaN(logs.lr) ? 'n/a' : logs.lr.toExponential(2);
  const parts = [`epoch ${epoch + 1}/${epochs}`, `loss ${format(logs.loss)}`, `lr ${lr}`];
  if (monitor !== undefined && monitor !== 'loss' && monitor !== 'lr' && monitor in logs) {
    parts.push(`${monitor} ${format(logs[monitor])}`);
  }
  parts.push(`${seconds.toFixed(1)} s`);
  return parts.join('  ');
}

/**
 * Progress output for the trainer: on a terminal, one line redrawn with `\r` after every step
 * (`epoch 3/20 [#########.......] 12/40 loss 0.0123`) and kept once the epoch ends; elsewhere
 * (CI logs, pipes) just one line per epoch with loss, lr and the monitored metric.
 *
 * @example
 * ```ts
 * const progress = createProgress((text) => process.stderr.write(text), { epochs: 20, tty: process.stderr.isTTY === true, monitor: 'val_auroc' });
 * ```
 */
export function createProgress(write: (text: string) => void, options: ProgressOptions): TrainProgress {
  const width = options.barWidth ?? 24;
  return {
    step(epoch, step, steps, loss) {
      if (!options.tty) return;
      const done = steps > 0 ? Math.round((width * step) / steps) : width;
      const bar = `${'#'.repeat(done)}${'.'.repeat(Math.max(0, width - done))}`;
      write(`\repoch ${epoch + 1}/${options.epochs} [${bar}] ${step}/${steps} loss ${format(loss)}\x1b[K`);
    },
    epoch(epoch, logs, seconds) {
      const line = epochLine(epoch, options.epochs, logs, options.monitor, seconds);
      write(options.tty ? `\r${line}\x1b[K\n` : `${line}\n`);
    },
    note(text) {
      write(options.tty ? `\r${text}\x1b[K\n` : `${text}\n`);
    },
  };
}

/** Progress that prints nothing (library use, scene evaluation). */
export const silentProgress: TrainProgress = {
  step: () => undefined,
  epoch: () => undefined,
  note: () => undefined,
};
