import { z } from 'zod';
import { CubestreamError } from '../core/errors.js';
import type { ScoreWindowState } from './score-window.js';

/** The threshold part of a camera's state: the frame it is in, the τ it applies and its window. */
export interface ThresholdCameraState {
  readonly frameId: number;
  readonly threshold: number;
  readonly source: 'seed' | 'window';
  readonly window: ScoreWindowState;
}

/** What a camera's pipeline state is made of, part by part (each absent until the camera is seen). */
export interface CameraStateParts {
  /** The online centre, little-endian float32, base64 (exact to the bit). */
  readonly center?: string;
  readonly threshold?: ThresholdCameraState;
}

/** A part of a camera's pipeline state that the live operator lends to {@link CameraCheckpoints}. */
export interface CameraStatePart<S> {
  /** The camera's state now; undefined when the operator has not seen it. */
  save(camera: string): S | undefined;
  /** Replaces the camera's state; undefined: back to the start (the bundle's). @throws Error naming what does not fit */
  load(camera: string, state: S | undefined): void;
}

/** One checkpoint: a camera's state after a block, as stored (`cubestream.camera-state/1`, JSON). */
export interface CameraCheckpoint {
  readonly schema: 'cubestream.camera-state/1';
  readonly camera: string;
  /** The model version whose centre and threshold these are (another model's are not loaded). */
  readonly model: string;
  /** The last block in: its frame id and first row. */
  readonly frameId: number;
  readonly rowOffset: number;
  /** Blocks folded into this state since the camera was first seen, over every owner. */
  readonly blocks: number;
  readonly savedAt: string;
  readonly parts: CameraStateParts;
}

const EntrySchema = z.object({
  frameId: z.number(),
  openedAt: z.number(),
  kept: z.number().int().nonnegative(),
  censored: z.number().int().nonnegative(),
  scores: z.string().optional(),
  sketch: z
    .object({
      bins: z.array(z.tuple([z.number().int(), z.number().nonnegative()])),
      zeroCount: z.number().nonnegative(),
      count: z.number().nonnegative(),
      sum: z.number(),
      min: z.number().nullable(),
      max: z.number().nullable(),
    })
    .optional(),
});

/** The schema a stored checkpoint is checked against before it is loaded. */
export const CameraCheckpointSchema = z.object({
  schema: z.literal('cubestream.camera-state/1'),
  camera: z.string(),
  model: z.string(),
  frameId: z.number().int(),
  rowOffset: z.number().int().nonnegative(),
  blocks: z.number().int().nonnegative(),
  savedAt: z.string(),
  parts: z.object({
    center: z.string().optional(),
    threshold: z
      .object({
        frameId: z.number().int(),
        threshold: z.number().nonnegative(),
        source: z.enum(['seed', 'window']),
        window: z.object({
          summary: z.enum(['exact', 'ddsketch']),
          relativeAccuracy: z.number().positive(),
          firstOpenedAt: z.number().optional(),
          closed: z.array(EntrySchema),
          open: EntrySchema.optional(),
        }),
      })
      .optional(),
  }),
});

/** Options of {@link CameraCheckpoints}. */
export interface CameraCheckpointsOptions {
  /** A checkpoint after every `everyBlocks` blocks of a camera (0: only when asked, {@link CameraCheckpoints.snapshot}). */
  readonly everyBlocks: number;
  /**
   * A restored state did not fit the operator it was loaded into later (a scorer lends its
   * centres on its first block); the camera starts from the bundle instead.
   */
  readonly onRefused?: (error: CheckpointRefusedError) => void;
}

/** Why a stored checkpoint was not loaded. */
export class CheckpointRefusedError extends CubestreamError {
  constructor(
    readonly camera: string,
    detail: string,
  ) {
    super('checkpoint_refused', `camera ${camera}: checkpoint not loaded: ${detail}`);
  }
}

interface Part<S> {
  readonly impl: CameraStatePart<S>;
}

/**
 * A part's slot: the operator lending it now, and the states restored while none was lent (a
 * scorer starts on its first block), loaded when one is.
 */
class Slot<S> {
  part: Part<S> | undefined;
  readonly pending = new Map<string, S | undefined>();

  constructor(private readonly onRefused: ((error: CheckpointRefusedError) => void) | undefined) {}

  lend(impl: CameraStatePart<S>): () => void {
    const part = { impl };
    this.part = part;
    for (const [camera, state] of this.pending) {
      try {
        impl.load(camera, state);
      } catch (error) {
        impl.load(camera, undefined);
        this.onRefused?.(new CheckpointRefusedError(camera, (error as Error).message));
      }
    }
    this.pending.clear();
    return () => {
      if (this.part === part) this.part = undefined;
    };
  }

  load(camera: string, state: S | undefined): void {
    if (this.part === undefined) this.pending.set(camera, state);
    else this.part.impl.load(camera, state);
  }

  save(camera: string): S | undefined {
    return this.part?.impl.save(camera) ?? this.pending.get(camera);
  }
}

/**
 * The state of each camera's pipeline (online centre, rolling threshold window), saved and
 * loaded as a whole so that another process can continue a camera exactly where this one left
 * it (docs/scaling-out.md §3). The live operators lend their parts while subscribed
 * (`CenterTracker` the centre, `rollingQuantileThreshold` the window); the pipeline names the
 * model ({@link useModel}) and reports each block it finished ({@link blockDone}), after which,
 * every `everyBlocks` blocks, the listeners get the encoded checkpoint. A checkpoint taken after
 * a block holds exactly the blocks up to it: the threshold has added its scores and the centre
 * has moved by it, and by no later block.
 *
 * @example
 * ```ts
 * declare const store: { put(camera: string, bytes: Uint8Array): Promise<void> };
 * const checkpoints = new CameraCheckpoints({ everyBlocks: 50 });
 * checkpoints.listen((camera, bytes) => void store.put(camera, bytes));
 * // deepSvddPipeline(bundle, { checkpoints }) lends the parts and reports blocks;
 * // a new owner: checkpoints.restore('cam3', await store.get('cam3')) before cam3's first block.
 * ```
 */
export class CameraCheckpoints {
  readonly everyBlocks: number;
  readonly #center: Slot<string>;
  readonly #threshold: Slot<ThresholdCameraState>;
  #model: string | undefined;
  readonly #blocks = new Map<string, number>();
  readonly #listeners = new Set<(camera: string, bytes: Uint8Array) => void>();
  /** Each camera's last block in: the frame id and first row a checkpoint names. */
  readonly #last = new Map<string, { frameId: number; rowOffset: number }>();

  constructor(options: CameraCheckpointsOptions) {
    if (!(Number.isSafeInteger(options.everyBlocks) && options.everyBlocks >= 0)) {
      throw new RangeError(`everyBlocks must be a non-negative integer, got ${options.everyBlocks}`);
    }
    this.everyBlocks = options.everyBlocks;
    this.#center = new Slot(options.onRefused);
    this.#threshold = new Slot(options.onRefused);
  }

  /**
   * Lends the centre part (states restored meanwhile are loaded into it now); returns how to take
   * it back (only while it is still this one).
   */
  lendCenter(impl: CameraStatePart<string>): () => void {
    return this.#center.lend(impl);
  }

  /** Lends the threshold part; returns how to take it back (only while it is still this one). */
  lendThreshold(impl: CameraStatePart<ThresholdCameraState>): () => void {
    return this.#threshold.lend(impl);
  }

  /** The model whose state the parts hold (the pipeline sets it when it subscribes). */
  useModel(version: string): void {
    this.#model = version;
  }

  /** Receives each checkpoint taken every `everyBlocks` blocks; returns how to stop. */
  listen(listener: (camera: string, bytes: Uint8Array) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** A camera's block is fully folded into its state; every `everyBlocks`, a checkpoint goes to the listeners. */
  blockDone(camera: string, frameId: number, rowOffset: number): void {
    const blocks = (this.#blocks.get(camera) ?? 0) + 1;
    this.#blocks.set(camera, blocks);
    this.#last.set(camera, { frameId, rowOffset });
    if (this.everyBlocks === 0 || blocks % this.everyBlocks !== 0 || this.#listeners.size === 0) return;
    const bytes = this.#encode(camera);
    if (bytes === undefined) return;
    for (const listener of this.#listeners) listener(camera, bytes);
  }

  /** The camera's state now, encoded; undefined before the pipeline has seen the camera. */
  snapshot(camera: string): Uint8Array | undefined {
    return this.#encode(camera);
  }

  /**
   * Continues a camera from a stored checkpoint, before its next block; `undefined` (nothing
   * stored) puts it back at the bundle's start. Returns the checkpoint loaded.
   *
   * @throws {@link CheckpointRefusedError} (the camera then starts from the bundle) for bytes that
   *   are not a checkpoint, another camera's, another model's, or a window kept another way
   */
  restore(camera: string, bytes: Uint8Array | undefined): CameraCheckpoint | undefined {
    const reset = () => {
      this.#center.load(camera, undefined);
      this.#threshold.load(camera, undefined);
      this.#blocks.delete(camera);
      this.#last.delete(camera);
    };
    if (bytes === undefined) {
      reset();
      return undefined;
    }
    let checkpoint: CameraCheckpoint;
    try {
      const parsed = CameraCheckpointSchema.safeParse(JSON.parse(Buffer.from(bytes).toString('utf8')));
      if (!parsed.success)
        throw new Error(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
      checkpoint = parsed.data as CameraCheckpoint;
    } catch (error) {
      reset();
      throw new CheckpointRefusedError(
        camera,
        `not a camera-state/1 checkpoint (${(error as Error).message})`,
      );
    }
    const refuse = (detail: string): never => {
      reset();
      throw new CheckpointRefusedError(camera, detail);
    };
    if (checkpoint.camera !== camera) refuse(`it is camera ${checkpoint.camera}'s`);
    if (this.#model !== undefined && checkpoint.model !== this.#model) {
      refuse(`it was taken with model ${checkpoint.model}, this pipeline runs ${this.#model}`);
    }
    try {
      this.#center.load(camera, checkpoint.parts.center);
      this.#threshold.load(camera, checkpoint.parts.threshold);
    } catch (error) {
      refuse((error as Error).message);
    }
    this.#blocks.set(camera, checkpoint.blocks);
    this.#last.set(camera, { frameId: checkpoint.frameId, rowOffset: checkpoint.rowOffset });
    return checkpoint;
  }

  #encode(camera: string): Uint8Array | undefined {
    const last = this.#last.get(camera);
    const center = this.#center.save(camera);
    const threshold = this.#threshold.save(camera);
    if (
      this.#model === undefined ||
      last === undefined ||
      (center === undefined && threshold === undefined)
    ) {
      return undefined;
    }
    const checkpoint: CameraCheckpoint = {
      schema: 'cubestream.camera-state/1',
      camera,
      model: this.#model,
      frameId: last.frameId,
      rowOffset: last.rowOffset,
      blocks: this.#blocks.get(camera) ?? 0,
      savedAt: new Date().toISOString(),
      parts: {
        ...(center === undefined ? {} : { center }),
        ...(threshold === undefined ? {} : { threshold }),
      },
    };
    return Buffer.from(JSON.stringify(checkpoint), 'utf8');
  }
}
