import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
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

/** Writes one checkpoint into `dir` (created empty beforehand); given by the trainer. */
export type SaveCheckpoint = (dir: string, epoch: number, logs: EpochLogs) => Promise<void> | void;

/** Options of {@link ModelCheckpoint}. */
export interface ModelCheckpointOptions extends MonitorOptions {
  /** Run folder; checkpoints go to `<runDir>/checkpoints/epoch-NNN`. */
  runDir: string;
  /** Writes the model into a folder. */
  save: SaveCheckpoint;
  /** How many best checkpoints (by the monitored metric) to keep (default 1; 0 keeps none by metric). */
  saveTopK?: number;
  /** Also keep the latest epoch's checkpoint (default true). */
  saveLast?: boolean;
}

/** One checkpoint on disk. */
export interface CheckpointEntry {
  /** The epoch, numbered as in the logs (from 1). */
  readonly epoch: number;
  /** Folder of the checkpoint. */
  readonly path: string;
  /** Value of the monitored metric at that epoch. */
  readonly value: number;
}

/** Name of the index file in `<runDir>/checkpoints/` that lists the kept checkpoints. */
export const CHECKPOINT_INDEX = 'index.json';

/** Folder name of epoch `epoch`'s checkpoint (numbered from 1): `epoch-NNN` (zero-padded to 3 digits). */
export function checkpointDirName(epoch: number): string {
  return `epoch-${String(epoch).padStart(3, '0')}`;
}

/**
 * Keeps the best `saveTopK` checkpoints by a monitored metric, plus the latest one: after each
 * epoch it saves when the epoch enters the top k (or always, with `saveLast`), deletes folders
 * that fell out of both sets, and rewrites `<runDir>/checkpoints/index.json`
 * (`{ monitor, mode, best: [...], last }`, best first). Ties keep the earlier epoch; a NaN
 * metric never enters the top k.
 *
 * @example
 * ```ts
 * import { type ModelBundle, saveBundle } from 'cubestream';
 * declare function bundleAt(epoch: number): ModelBundle; // the model as trained so far, with its calibration
 * const checkpoint = new ModelCheckpoint({
 *   runDir: 'runs/2024-05-01', monitor: 'val_auroc', mode: 'max', saveTopK: 3,
 *   save: async (dir, epoch) => { await saveBundle(dir, bundleAt(epoch)); },
 * });
 * // later: checkpoint.best?.path
 * ```
 */
export class ModelCheckpoint implements Callback {
  readonly name = 'modelCheckpoint';
  /** `<runDir>/checkpoints`. */
  readonly dir: string;
  private readonly monitor: Monitor;
  private readonly save: SaveCheckpoint;
  private readonly topK: number;
  private readonly saveLast: boolean;
  private kept: CheckpointEntry[] = [];
  private latest: CheckpointEntry | undefined;

  /** @throws {@link OptionError} for an empty runDir, a negative saveTopK, or nothing to keep */
  constructor(options: ModelCheckpointOptions) {
    if (options.runDir === '')
      throw new OptionError('training', `${this.name}.runDir`, '', 'must name a folder');
    this.dir = path.join(options.runDir, 'checkpoints');
    this.monitor = createMonitor(this.name, options);
    this.save = options.save;
    this.topK = checkInteger(`${this.name}.saveTopK`, options.saveTopK ?? 1, 0);
    this.saveLast = options.saveLast ?? true;
    if (this.topK === 0 && !this.saveLast) {
      throw new OptionError(
        'training',
        `${this.name}.saveTopK`,
        0,
        'with saveLast false nothing would be kept',
      );
    }
  }

  /** The metric the checkpoints are ranked by (after any fallback to `loss`). */
  get monitored(): string {
    return this.monitor.monitor;
  }

  /** Kept best checkpoints, best first. */
  get bestCheckpoints(): readonly CheckpointEntry[] {
    return this.kept;
  }

  /** The best checkpoint kept so far. */
  get best(): CheckpointEntry | undefined {
    return this.kept[0];
  }

  /** The latest epoch's checkpoint (when `saveLast`). */
  get last(): CheckpointEntry | undefined {
    return this.saveLast ? this.latest : undefined;
  }

  /** @throws {@link MonitorMetricError} when the logs lack the monitored metric */
  async onEpochEnd(epoch: number, logs: EpochLogs): Promise<CallbackResult> {
    const value = this.monitor.read(logs);
    const entry: CheckpointEntry = { epoch, path: path.join(this.dir, checkpointDirName(epoch)), value };
    const worst = this.kept[this.kept.length - 1];
    const entersTopK =
      this.topK > 0 &&
      !Number.isNaN(value) &&
      (this.kept.length < this.topK || this.monitor.improves(value, worst?.value));
    if (!entersTopK && !this.saveLast) return {};
    await rm(entry.path, { recursive: true, force: true });
    await mkdir(entry.path, { recursive: true });
    await this.save(entry.path, epoch, logs);
    const previous = [...this.kept, ...(this.latest === undefined ? [] : [this.latest])];
    if (entersTopK) {
      const better = this.kept.filter((k) => !this.monitor.improves(value, k.value));
      const worse = this.kept.filter((k) => this.monitor.improves(value, k.value));
      this.kept = [...better, entry, ...worse].slice(0, this.topK);
    }
    this.latest = entry;
    const keep = new Set([...this.kept.map((k) => k.path), ...(this.saveLast ? [entry.path] : [])]);
    for (const old of previous) {
      if (!keep.has(old.path)) await rm(old.path, { recursive: true, force: true });
    }
    const index = {
      monitor: this.monitor.monitor,
      mode: this.monitor.mode,
      best: this.kept,
      last: this.last ?? null,
    };
    await writeFile(path.join(this.dir, CHECKPOINT_INDEX), `${JSON.stringify(index, null, 2)}\n`);
    return {};
  }
}
