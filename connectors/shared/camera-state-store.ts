/**
 * Camera state checkpoints on JetStream (docs/scaling-out.md §3): one object per camera and
 * ownership, `camera.<id>.<epoch>`, in the Object Store `CUBESTREAM_STATE`; the epoch is the
 * owner's lease revision, higher for every later owner. An Object Store rather than a KV value:
 * a rolling threshold kept `exact` holds every score of its window, more than a KV value's
 * 1 MB limit (the server's max_payload); the store chunks it.
 *
 * One object per ownership because an Object Store has no compare-and-set: a write of an earlier
 * owner still in flight when its lease passed could otherwise land after the next owner's and
 * replace a newer state. Now it lands in the earlier owner's own object, which the newest epoch
 * outranks; a new owner deletes the objects older than the one it loaded.
 */
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { type ObjectStore, Objm, StorageType } from '@nats-io/obj';
import type { NatsConnection } from '@nats-io/transport-node';
import { CubestreamError } from '../../src/core/errors.js';

/** Where checkpoints live unless configured otherwise, and their largest size. */
export const CAMERA_STATE_DEFAULTS = {
  /** The Object Store bucket. */
  bucket: 'CUBESTREAM_STATE',
  /** Largest checkpoint written or read, bytes (a larger one is refused, not truncated). */
  maxBytes: 64 * 1024 * 1024,
} as const;

/** A checkpoint that cannot be stored or read (code `camera_state`); the message says why. */
export class CameraStateStoreError extends CubestreamError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('camera_state', message, options);
  }
}

/** Options of {@link CameraStateStore}. */
export interface CameraStateStoreOptions {
  /** The bucket; default `CUBESTREAM_STATE` (created when missing). */
  readonly bucket?: string;
  /** Replicas of the bucket when it is created (a 3-node cluster: 3 survives a node); default 1. */
  readonly replicas?: number;
  /** Largest checkpoint, bytes; default 64 MiB. */
  readonly maxBytes?: number;
}

/**
 * The object holding a camera's checkpoint of ownership `epoch` (the owner's lease revision);
 * epoch 0: `camera.<id>`, the name of checkpoints written before epochs (outranked by any other).
 */
export function cameraStateObject(camera: string, epoch = 0): string {
  return epoch > 0 ? `camera.${camera}.${epoch}` : `camera.${camera}`;
}

/** The epoch of `name` if it holds a checkpoint of `camera` (camera ids have no dots), else undefined. */
function epochOf(camera: string, name: string): number | undefined {
  const base = cameraStateObject(camera);
  if (name === base) return 0;
  if (!name.startsWith(`${base}.`)) return undefined;
  const epoch = Number(name.slice(base.length + 1));
  return Number.isSafeInteger(epoch) && epoch > 0 ? epoch : undefined;
}

/** An object's name from the last token of its meta subject (URL-safe base64 of the name, padded). */
function objectNameOf(token: string): string {
  return Buffer.from(token.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8');
}

/** One stored checkpoint object of a camera. */
export interface StoredCheckpoint {
  /** The object's name, `camera.<id>.<epoch>` (`camera.<id>` for epoch 0). */
  readonly name: string;
  /** The writer's lease revision. */
  readonly epoch: number;
  /** Bytes. */
  readonly size: number;
}

/** A camera's newest checkpoint and the ownership that wrote it. */
export interface StoredCameraState {
  readonly bytes: Uint8Array;
  /** The writer's lease revision (0: a checkpoint written before epochs). */
  readonly epoch: number;
}

/**
 * Each camera's newest checkpoint, as bytes the store does not look into (the pipeline's
 * `CameraCheckpoints` encodes and checks them).
 *
 * @example
 * ```ts
 * declare const nc: import('@nats-io/transport-node').NatsConnection;
 * const store = new CameraStateStore(nc);
 * await store.put('cam0', new TextEncoder().encode('{"schema":"cubestream.camera-state/1"}'), 41);
 * const bytes = await store.get('cam0'); // the newest epoch's; undefined when none was stored
 * ```
 */
export class CameraStateStore {
  readonly bucket: string;
  readonly maxBytes: number;
  readonly #replicas: number;
  #objects: Promise<ObjectStore> | undefined;

  constructor(
    private readonly nc: NatsConnection,
    options: CameraStateStoreOptions = {},
  ) {
    this.bucket = options.bucket ?? CAMERA_STATE_DEFAULTS.bucket;
    this.maxBytes = options.maxBytes ?? CAMERA_STATE_DEFAULTS.maxBytes;
    this.#replicas = options.replicas ?? 1;
  }

  /** The Object Store, created when missing. */
  objects(): Promise<ObjectStore> {
    this.#objects ??= new Objm(jetstream(this.nc))
      .create(this.bucket, {
        storage: StorageType.File,
        replicas: this.#replicas,
        description: 'cubestream camera state checkpoints',
      })
      .catch((error: unknown) => {
        this.#objects = undefined;
        throw new CameraStateStoreError(`object store ${this.bucket} cannot be opened: ${String(error)}`, {
          cause: error,
        });
      });
    return this.#objects;
  }

  /**
   * Replaces the camera's checkpoint of ownership `epoch` (the writer's lease revision).
   *
   * @throws {@link CameraStateStoreError} for a checkpoint over `maxBytes`
   */
  async put(camera: string, bytes: Uint8Array, epoch = 0): Promise<void> {
    if (bytes.byteLength > this.maxBytes) {
      throw new CameraStateStoreError(
        `camera ${camera}: checkpoint of ${bytes.byteLength} bytes is over the ${this.maxBytes}-byte limit (keep the threshold window as a ddsketch, or a shorter window)`,
      );
    }
    await (await this.objects()).putBlob(
      { name: cameraStateObject(camera, epoch), description: `state of camera ${camera}` },
      bytes,
    );
  }

  /**
   * The camera's checkpoint of the highest epoch; undefined when none is stored.
   *
   * @throws {@link CameraStateStoreError} for one over `maxBytes`
   */
  async get(camera: string): Promise<Uint8Array | undefined> {
    return (await this.latest(camera))?.bytes;
  }

  /**
   * The camera's checkpoint of the highest epoch, with its epoch; undefined when none is stored.
   *
   * @throws {@link CameraStateStoreError} for one over `maxBytes`
   */
  async latest(camera: string): Promise<StoredCameraState | undefined> {
    const objects = await this.objects();
    const newest = (await this.checkpoints(camera)).at(-1);
    if (newest === undefined) return undefined;
    if (newest.size > this.maxBytes) {
      throw new CameraStateStoreError(
        `camera ${camera}: stored checkpoint of ${newest.size} bytes is over the ${this.maxBytes}-byte limit`,
      );
    }
    const bytes = await objects.getBlob(newest.name);
    return bytes === null ? undefined : { bytes, epoch: newest.epoch };
  }

  /** Deletes the camera's checkpoints of epochs below `epoch` (outranked: never read again); errors are ignored. */
  async prune(camera: string, epoch: number): Promise<void> {
    const objects = await this.objects();
    for (const old of await this.checkpoints(camera)) {
      if (old.epoch < epoch) await objects.delete(old.name).catch(() => undefined);
    }
  }

  /** Removes every checkpoint of the camera (its next owner starts from the bundle). */
  async delete(camera: string): Promise<void> {
    await this.prune(camera, Number.POSITIVE_INFINITY);
  }

  /**
   * The camera's stored checkpoints, lowest epoch first: the object names from the subjects of
   * the bucket's stream (one request; the store's own `list()` runs a consumer that may stop
   * early), each object's info read by name.
   */
  async checkpoints(camera: string): Promise<StoredCheckpoint[]> {
    const objects = await this.objects();
    const prefix = `$O.${this.bucket}.M.`;
    const stream = await (await jetstreamManager(this.nc)).streams.info(`OBJ_${this.bucket}`, {
      subjects_filter: `${prefix}>`,
    });
    const found: StoredCheckpoint[] = [];
    for (const subject of Object.keys(stream.state.subjects ?? {})) {
      const name = objectNameOf(subject.slice(prefix.length));
      const epoch = epochOf(camera, name);
      if (epoch === undefined) continue;
      const info = await objects.info(name);
      if (info !== null && !info.deleted) found.push({ name, epoch, size: info.size });
    }
    return found.sort((a, b) => a.epoch - b.epoch);
  }
}
