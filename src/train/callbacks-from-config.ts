import { OptionError } from '../core/options.js';
import type { LearningRateControl } from './adamw.js';
import type { Callback, MonitorMode } from './callbacks/callback.js';
import { ModelCheckpoint, type SaveCheckpoint } from './callbacks/checkpoint.js';
import { EarlyStopping } from './callbacks/early-stopping.js';
import { ReduceLROnPlateau } from './callbacks/reduce-lr-on-plateau.js';

/** A monitored metric as written in a trainrun config. */
export interface MonitorConfig {
  readonly monitor: string;
  readonly mode: MonitorMode;
  readonly minDelta?: number;
}

/** The `callbacks` section of a trainrun config (see `TrainrunSchema`). */
export interface CallbacksConfig {
  readonly earlyStopping?: MonitorConfig & { readonly patience?: number };
  readonly checkpoint?: MonitorConfig & {
    readonly saveTopK?: number;
    readonly saveLast?: boolean;
    readonly restoreBest?: boolean;
  };
  readonly reduceLrOnPlateau?: MonitorConfig & {
    readonly factor?: number;
    readonly patience?: number;
    readonly minLr?: number;
    readonly cooldown?: number;
  };
}

/** What {@link buildCallbacks} needs beyond the config. */
export interface CallbackContext {
  /** The optimizer whose learning rate ReduceLROnPlateau lowers. */
  readonly optimizer: LearningRateControl;
  /** Whether there is a validation split (else `val_*` monitors fall back to `loss`). */
  readonly hasValidation: boolean;
  /** Run folder for checkpoints (required when `checkpoint` is configured). */
  readonly runDir?: string;
  /** Writes one checkpoint (required when `checkpoint` is configured). */
  readonly save?: SaveCheckpoint;
  /** Told about each monitor that had to fall back. */
  readonly note?: (text: string) => void;
}

/** The callbacks, in the order they run, and the checkpoint callback for restoring the best. */
export interface BuiltCallbacks {
  readonly callbacks: Callback[];
  readonly checkpoint?: ModelCheckpoint;
}

/**
 * Without a validation split a `val_*` metric never appears in the logs: such monitors fall
 * back to the training `loss` (mode `min`), with a note, instead of failing after the first epoch.
 */
function resolve<T extends MonitorConfig>(name: string, config: T, context: CallbackContext): T {
  if (context.hasValidation || !config.monitor.startsWith('val_')) return config;
  context.note?.(`${name}: no validation split, monitoring loss instead of ${config.monitor}`);
  return { ...config, monitor: 'loss', mode: 'min' };
}

/**
 * Builds the callbacks a trainrun config asks for: early stopping, checkpoints (best k by a
 * monitored metric, plus the last), ReduceLROnPlateau; run in that order after each epoch.
 *
 * @throws {@link OptionError} when `checkpoint` is configured without a run folder / save
 *   function, or for an option the callbacks reject
 * @example
 * ```ts
 * import type { SaveCheckpoint } from './callbacks/checkpoint.js';
 * declare const save: SaveCheckpoint; // writes the model's bundle into a checkpoint folder
 * const { callbacks, checkpoint } = buildCallbacks(trainConfig.callbacks, { optimizer, hasValidation: true, runDir: 'runs/r1', save });
 * ```
 */
export function buildCallbacks(config: CallbacksConfig, context: CallbackContext): BuiltCallbacks {
  const callbacks: Callback[] = [];
  if (config.earlyStopping !== undefined) {
    callbacks.push(new EarlyStopping(resolve('earlyStopping', config.earlyStopping, context)));
  }
  let checkpoint: ModelCheckpoint | undefined;
  if (config.checkpoint !== undefined) {
    if (context.runDir === undefined || context.save === undefined) {
      throw new OptionError(
        'training',
        'callbacks.checkpoint',
        'on',
        'needs a run folder to write checkpoints into',
      );
    }
    const { restoreBest: _restore, ...options } = resolve('checkpoint', config.checkpoint, context);
    checkpoint = new ModelCheckpoint({ ...options, runDir: context.runDir, save: context.save });
    callbacks.push(checkpoint);
  }
  if (config.reduceLrOnPlateau !== undefined) {
    callbacks.push(
      new ReduceLROnPlateau(
        context.optimizer,
        resolve('reduceLrOnPlateau', config.reduceLrOnPlateau, context),
      ),
    );
  }
  return checkpoint === undefined ? { callbacks } : { callbacks, checkpoint };
}
