/**
 * Camera state checkpoints on JetStream (docs/scaling-out.md §3): one object per camera,
 * `camera.<id>`, in the Object Store `CUBESTREAM_STATE`. An Object Store rather than a KV value:
 * a rolling threshold kept `exact` holds every score of its window, more than a KV value's
 * 1 MB limit (the server's max_payload); the store chunks it, and keeps the newest object only.
 */
import { jetstream } from '@nats-io/jetstream';
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

/** The object holding a camera's checkpoint. */
export function cameraStateObject(camera: string): string {
  return `camera.${camera}`;
}

/**
 * Each camera's newest checkpoint, as bytes the store does not look into (the pipeline's
 * `CameraCheckpoints` encodes and checks them).
 *
 * @example
 * ```ts
 * declare const nc: import('@nats-io/transport-node').NatsConnection;
 * const store = new CameraStateStore(nc);
 * await store.put('cam0', new TextEncoder().encode('{"schema":"cubestream.camera-state/1"}'));
 * const bytes = await store.get('cam0'); // undefined when none was stored
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
   * Replaces the camera's checkpoint.
   *
   * @throws {@link CameraStateStoreError} for a checkpoint over `maxBytes`
   */
  async put(camera: string, bytes: Uint8Array): Promise<void> {
    if (bytes.byteLength > this.maxBytes) {
      throw new CameraStateStoreError(
        `camera ${camera}: checkpoint of ${bytes.byteLength} bytes is over the ${this.maxBytes}-byte limit (keep the threshold window as a ddsketch, or a shorter window)`,
      );
    }
    await (await this.objects()).putBlob(
      { name: cameraStateObject(camera), description: `state of camera ${camera}` },
      bytes,
    );
  }

  /**
   * The camera's checkpoint; undefined when none is stored.
   *
   * @throws {@link CameraStateStoreError} for one over `maxBytes`
   */
  async get(camera: string): Promise<Uint8Array | undefined> {
    const objects = await this.objects();
    const name = cameraStateObject(camera);
    const info = await objects.info(name);
    if (info === null || info.deleted) return undefined;
    if (info.size > this.maxBytes) {
      throw new CameraStateStoreError(
        `camera ${camera}: stored checkpoint of ${info.size} bytes is over the ${this.maxBytes}-byte limit`,
      );
    }
    return (await objects.getBlob(name)) ?? undefined;
  }

  /** Removes the camera's checkpoint (its next owner starts from the bundle). */
  async delete(camera: string): Promise<void> {
    await (await this.objects()).delete(cameraStateObject(camera)).catch(() => undefined);
  }
}
