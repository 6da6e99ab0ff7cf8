import { performance } from 'node:perf_hooks';
import type { EpochLogs } from './callbacks/callback.js';

/** Where the trainer reports progress. Epochs are numbered from 1, as in every log. */
export interface TrainProgress {
  /** After every optimisation step (`step` of `steps` in epoch `epoch`, both from 1). */
  step(epoch: number, step: number, steps: number, loss: number): void;
  /** After every epoch (training, validation and callbacks done). */
  epoch(epoch: number, logs: EpochLogs, seconds: number): void;
  /** A free-form note (a stage unfrozen, early stop, a restored checkpoint). */
  note(text: string): void;
}

/** Options of {@link createProgress}. */
export interface ProgressOptions {
  /** Epochs planned (for "epoch 3/20" and the ETA). */
  readonly epochs: number;
  /** Redraw one `\r` line per step (a terminal) instead of printing a line per epoch. */
  readonly tty: boolean;
  /** The metric the callbacks watch, shown after loss and lr (when present in the logs). */
  readonly monitor?: string;
  /** Width of the bar in characters (default 24). */
  readonly barWidth?: number;
  /** Clock in milliseconds, for the ETA (default `performance.now`); it starts when the progress is created. */
  readonly now?: () => number;
}

function format(value: number | undefined): string {
  if (value === undefined || Number.isNaN(value)) return 'n/a';
  const magnitude = Math.abs(value);
  return magnitude !== 0 && (magnitude < 1e-3 || magnitude >= 1e5)
    ? value.toExponential(3)
    : value.toFixed(4);
}

/**
 * A remaining time for humans: `45 s`, `3 min 05 s`, `1 h 02 min` (seconds rounded up).
 *
 * @example
 * ```ts
 * formatEta(185); // '3 min 05 s'
 * ```
 */
export function formatEta(seconds: number): string {
  if (!Number.isFinite(seconds)) return 'n/a';
  const s = Math.max(0, Math.ceil(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
  const minutes = Math.ceil(s / 60);
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, '0')} min`;
}

/**
 * The epoch line: `epoch 3/20  loss 0.0123  lr 1.00e-3  val_auroc 0.9912  4.1 s  ETA 1 min 12 s`
 * (`epoch` from 1; the ETA only when given and epochs remain).
 *
 * @example
 * ```ts
 * epochLine(3, 20, { loss: 0.0123, lr: 0.001, val_auroc: 0.9912 }, 'val_auroc', 4.1, 72);
 * ```
 */
export function epochLine(
  epoch: number,
  epochs: number,
  logs: EpochLogs,
  monitor: string | undefined,
  seconds: number,
  etaSeconds?: number,
): string {
  const lr = logs.lr === undefined || Number.isNaN(logs.lr) ? 'n/a' : logs.lr.toExponential(2);
  const parts = [`epoch ${epoch}/${epochs}`, `loss ${format(logs.loss)}`, `lr ${lr}`];
  if (monitor !== undefined && monitor !== 'loss' && monitor !== 'lr' && monitor in logs) {
    parts.push(`${monitor} ${format(logs[monitor])}`);
  }
  parts.push(`${seconds.toFixed(1)} s`);
  if (etaSeconds !== undefined && epoch < epochs) parts.push(`ETA ${formatEta(etaSeconds)}`);
  return parts.join('  ');
}

/**
 * Estimates the time left from the time spent: the epochs done so far give the time of an
 * epoch (validation included); during the first epoch, the steps done give it.
 */
class EtaClock {
  private readonly started: number;
  private lastEpochEnd: number;
  private epochsDone = 0;

  constructor(
    private readonly epochs: number,
    private readonly now: () => number,
  ) {
    this.started = now();
    this.lastEpochEnd = this.started;
  }

  /** Seconds left after `step` of `steps` steps of epoch `epoch` (from 1). */
  afterStep(epoch: number, step: number, steps: number): number {
    const now = this.now();
    const inEpoch = (now - this.lastEpochEnd) / 1000;
    const fraction = steps > 0 ? Math.min(1, step / steps) : 1;
    const thisEpoch = fraction > 0 ? inEpoch / fraction : inEpoch;
    const perEpoch =
      this.epochsDone > 0 ? (this.lastEpochEnd - this.started) / 1000 / this.epochsDone : thisEpoch;
    return Math.max(0, Math.max(perEpoch, thisEpoch) - inEpoch) + Math.max(0, this.epochs - epoch) * perEpoch;
  }

  /** Seconds left once epoch `epoch` (from 1) has ended. */
  afterEpoch(epoch: number): number {
    this.lastEpochEnd = this.now();
    this.epochsDone = epoch;
    const perEpoch = (this.lastEpochEnd - this.started) / 1000 / Math.max(1, epoch);
    return Math.max(0, this.epochs - epoch) * perEpoch;
  }
}

/**
 * Progress output for the trainer: on a terminal, one line redrawn with `\r` after every step
 * (`epoch 3/20 [#########.......] 12/40 loss 0.0123 ETA 1 min 20 s`) and kept once the epoch
 * ends; elsewhere (CI logs, pipes) one line per epoch with loss, lr, the monitored metric and
 * the ETA. The ETA assumes every remaining epoch takes as long as the average one so far (an
 * early stop ends sooner).
 *
 * @example
 * ```ts
 * const progress = createProgress((text) => process.stderr.write(text), { epochs: 20, tty: process.stderr.isTTY === true, monitor: 'val_auroc' });
 * ```
 */
export function createProgress(write: (text: string) => void, options: ProgressOptions): TrainProgress {
  const width = options.barWidth ?? 24;
  const clock = new EtaClock(options.epochs, options.now ?? (() => performance.now()));
  return {
    step(epoch, step, steps, loss) {
      if (!options.tty) return;
      const eta = clock.afterStep(epoch, step, steps);
      const done = steps > 0 ? Math.round((width * step) / steps) : width;
      const bar = `${'#'.repeat(done)}${'.'.repeat(Math.max(0, width - done))}`;
      write(
        `\repoch ${epoch}/${options.epochs} [${bar}] ${step}/${steps} loss ${format(loss)} ETA ${formatEta(eta)}\x1b[K`,
      );
    },
    epoch(epoch, logs, seconds) {
      const line = epochLine(epoch, options.epochs, logs, options.monitor, seconds, clock.afterEpoch(epoch));
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
