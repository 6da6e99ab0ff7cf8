import { asError } from '../../src/core/errors.js';
import type { CameraStateStore, StoredCameraState } from './camera-state-store.js';

/** What became of a checkpoint: the `outcome` of `cubestream_camera_state_total`. */
export const CAMERA_STATE_OUTCOMES = ['restored', 'fresh', 'refused', 'saved', 'failed'] as const;
/** One of {@link CAMERA_STATE_OUTCOMES}. */
export type CameraStateOutcome = (typeof CAMERA_STATE_OUTCOMES)[number];

/**
 * What keeps the cameras' pipeline state in this process (the pipeline's `CameraCheckpoints`):
 * it encodes a camera's state, loads one, and hands out a checkpoint every N blocks.
 */
export interface CameraStateKeeper {
  /** The camera's state now, encoded; undefined before the pipeline has seen it. */
  snapshot(camera: string): Uint8Array | undefined;
  /**
   * Continues the camera from stored bytes (undefined: from the start); returns where the loaded
   * state stands (its last block's frame id, its blocks in all). @throws Error when refused
   */
  restore(camera: string, bytes: Uint8Array | undefined): RestoredState | undefined;
  /** Receives each periodic checkpoint; returns how to stop. */
  listen(listener: (camera: string, bytes: Uint8Array) => void): () => void;
}

/** Where a restored camera state stands. */
export interface RestoredState {
  /** The frame id of the last block folded into it. */
  readonly frameId: number;
  /** Blocks folded into it since the camera was first seen, over every owner. */
  readonly blocks: number;
}

/** What {@link CameraStateSync} tells its owner. */
export interface CameraStateEvents {
  /** A camera's stored state was loaded (undefined: none stored, it starts from the bundle). */
  readonly onRestored?: (camera: string, restored: RestoredState | undefined) => void;
  /** A stored state was refused (another model's, another camera's, …): the camera starts from the bundle. */
  readonly onRefused?: (camera: string, error: Error) => void;
  /** A checkpoint was written. */
  readonly onSaved?: (camera: string, bytes: number, why: 'periodic' | 'release') => void;
  /** A checkpoint could not be read or written (the camera goes on; the next one is tried). */
  readonly onFailed?: (camera: string, error: Error) => void;
}

/**
 * Moves each leased camera's state between the pipeline and the store: loaded when the camera
 * is acquired (before its first frame is pulled), written every N blocks while it is owned (one
 * write in flight per camera; a newer checkpoint replaces one still waiting), and written once
 * more when it is released after its frames drained, so the next owner continues exactly. A
 * camera taken by another worker is not written (its new owner's state is newer).
 *
 * @example
 * ```ts
 * declare const store: import('./camera-state-store.js').CameraStateStore;
 * declare const keeper: CameraStateKeeper;
 * const sync = new CameraStateSync(store, keeper);
 * await sync.acquire('cam0', 41); // lease revision 41; then start pulling cam0's frames
 * await sync.release('cam0', 'released'); // after its frames drained
 * ```
 */
export class CameraStateSync {
  readonly #owned = new Set<string>();
  /** The epoch (lease revision) of each camera's latest ownership: its checkpoints' object. */
  readonly #epochs = new Map<string, number>();
  /** Per camera: the write in flight, and the newest checkpoint waiting behind it. */
  readonly #writing = new Map<string, Promise<void>>();
  readonly #waiting = new Map<string, Uint8Array>();
  /** Cameras whose waiting checkpoint is the one taken at their release. */
  readonly #releaseWaiting = new Set<string>();
  readonly #unlisten: () => void;

  constructor(
    private readonly store: CameraStateStore,
    private readonly keeper: CameraStateKeeper,
    private readonly events: CameraStateEvents = {},
  ) {
    this.#unlisten = keeper.listen((camera, bytes) => {
      if (this.#owned.has(camera)) this.#queue(camera, bytes);
    });
  }

  /** Opens the store ahead of the first camera (an error is left for the first acquire to report). */
  async prepare(): Promise<void> {
    await this.store.objects().catch(() => undefined);
  }

  /**
   * Loads the camera's stored state (the highest epoch's) into the pipeline; from then on its
   * checkpoints are written under `epoch`, this ownership's lease revision (0: no epoch), and
   * the checkpoints older than the one loaded are deleted.
   */
  async acquire(camera: string, epoch = 0): Promise<void> {
    // A write of the previous ownership still in flight lands first (a quick re-acquire).
    await this.#writing.get(camera);
    this.#epochs.set(camera, epoch);
    let stored: StoredCameraState | undefined;
    try {
      stored = await this.store.latest(camera);
    } catch (error) {
      // Unreadable: the camera starts from the bundle rather than not at all.
      this.events.onFailed?.(camera, asError(error));
      stored = undefined;
    }
    try {
      // Restored whether or not anyone listens (`onRestored?.(…, restore())` would skip it).
      const restored = this.keeper.restore(camera, stored?.bytes);
      this.events.onRestored?.(camera, restored);
    } catch (error) {
      this.events.onRefused?.(camera, asError(error));
    }
    if (stored !== undefined) await this.store.prune(camera, stored.epoch).catch(() => undefined);
    this.#owned.add(camera);
  }

  /**
   * The camera is no longer owned: `released` (its frames drained) writes its state now;
   * `taken` and `expired` write nothing (another worker may own it). Waits for its writes.
   */
  async release(camera: string, why: 'released' | 'taken' | 'expired'): Promise<void> {
    this.#owned.delete(camera);
    this.#waiting.delete(camera);
    this.#releaseWaiting.delete(camera);
    if (why === 'released') {
      const bytes = this.keeper.snapshot(camera);
      if (bytes !== undefined) this.#queue(camera, bytes, 'release');
    }
    await this.#writing.get(camera);
  }

  /** Stops listening and waits for the writes in flight. */
  async close(): Promise<void> {
    this.#unlisten();
    await Promise.all([...this.#writing.values()]);
  }

  #queue(camera: string, bytes: Uint8Array, why: 'periodic' | 'release' = 'periodic'): void {
    if (this.#writing.has(camera)) {
      this.#waiting.set(camera, bytes);
      if (why === 'release') this.#releaseWaiting.add(camera);
      return;
    }
    const write = (next: Uint8Array, reason: 'periodic' | 'release'): Promise<void> =>
      this.store
        .put(camera, next, this.#epochs.get(camera) ?? 0)
        .then(
          () => this.events.onSaved?.(camera, next.byteLength, reason),
          (error: unknown) => this.events.onFailed?.(camera, asError(error)),
        )
        .then(() => {
          const after = this.#waiting.get(camera);
          this.#waiting.delete(camera);
          if (after === undefined) {
            this.#writing.delete(camera);
            return;
          }
          const afterWhy = this.#releaseWaiting.delete(camera) ? 'release' : 'periodic';
          return write(after, afterWhy);
        });
    this.#writing.set(camera, write(bytes, why));
  }
}
