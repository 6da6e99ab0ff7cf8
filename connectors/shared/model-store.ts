/**
 * Model bundles on JetStream, for a fleet of workers (docs/model-rollout.md): each version is one
 * object of the Object Store `CUBESTREAM_MODELS` (the bundle's ustar archive, named by its
 * version), and a key of the KV bucket `CUBESTREAM_MODEL` (`default`, or `camera.<id>`) points at
 * the version the workers watching it should run, as a {@link ModelPointer}. The key's history
 * (64 revisions) is the rollout log; a rollback points the key at the previous version again.
 */
import { jetstream } from '@nats-io/jetstream';
import { type KV, type KvEntry, Kvm } from '@nats-io/kv';
import { type ObjectInfo, type ObjectStore, Objm, StorageType } from '@nats-io/obj';
import type { NatsConnection } from '@nats-io/transport-node';
import { z } from 'zod';
import { CAMERA_ID_RULE, isCameraId } from '../../src/core/camera-id.js';
import { CubestreamError } from '../../src/core/errors.js';
import { type BundleArchive, sha256Hex } from '../../src/model/bundle-archive.js';

/** Where bundles and pointers live unless configured otherwise. */
export const MODEL_STORE_DEFAULTS = {
  /** KV bucket of the pointers. */
  bucket: 'CUBESTREAM_MODEL',
  /** Object Store bucket of the bundle archives. */
  store: 'CUBESTREAM_MODELS',
  /** The key every worker follows unless told another. */
  key: 'default',
  /** Revisions kept per key (JetStream's most): the rollback history. */
  history: 64,
} as const;

/** Schema of a pointer's JSON. */
export const MODEL_POINTER_SCHEMA = 'cubestream.model-pointer/1';

const Sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'a SHA-256 in lower-case hex');

/** The value of a model key: which bundle to run, and how to check it. */
export const ModelPointerSchema = z.object({
  schema: z.literal(MODEL_POINTER_SCHEMA),
  /** The bundle's `manifest.version`. */
  version: z.string().min(1),
  /** The object holding its archive in the store. */
  object: z.string().min(1),
  /** SHA-256 of the archive (the object's bytes), hex. */
  sha256: Sha256,
  /** SHA-256 of the bundle's weights (its model card's `hashes.weightsSha256`), hex. */
  weightsSha256: Sha256,
  /** Bytes of the archive. */
  bytes: z.number().int().nonnegative(),
  /** When the key was pointed here (ISO 8601). */
  pushedAt: z.string().min(1),
  /** The version the key pointed at before, if any: where a rollback goes. */
  previous: z.string().min(1).nullable(),
  /** Set by a rollback: the version it rolled back from. */
  rolledBackFrom: z.string().min(1).optional(),
});
/** A parsed model pointer. */
export type ModelPointer = z.infer<typeof ModelPointerSchema>;

/** A pointer with the key's revision it was read at. */
export interface KeyedPointer {
  readonly key: string;
  readonly revision: number;
  readonly pointer: ModelPointer;
}

/** A model store operation that cannot be done (code `model_store`); the message says why. */
export class ModelStoreError extends CubestreamError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('model_store', message, options);
  }
}

/** An archive whose bytes are not the ones its pointer names (code `model_integrity`). */
export class ModelIntegrityError extends CubestreamError {
  constructor(message: string) {
    super('model_integrity', message);
  }
}

/** A pointer that is not a {@link ModelPointer} (code `model_pointer`). */
export class ModelPointerError extends CubestreamError {
  constructor(key: string, revision: number, detail: string, options?: { cause?: unknown }) {
    super('model_pointer', `model key ${key} revision ${revision}: ${detail}`, options);
  }
}

/**
 * The KV key of a camera's model (`camera.<id>`), or of every camera (`default`).
 *
 * @throws {@link ModelStoreError} for a camera id outside the grammar
 * @example
 * ```ts
 * modelKey(); // 'default'
 * modelKey('line3'); // 'camera.line3'
 * ```
 */
export function modelKey(cameraId?: string): string {
  if (cameraId === undefined) return MODEL_STORE_DEFAULTS.key;
  if (!isCameraId(cameraId))
    throw new ModelStoreError(`camera ${JSON.stringify(cameraId)} ${CAMERA_ID_RULE}`);
  return `camera.${cameraId}`;
}

/** Parses a KV entry's value as a pointer. */
export function parsePointer(entry: Pick<KvEntry, 'key' | 'revision' | 'value'>): ModelPointer {
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(entry.value).toString('utf8'));
  } catch (cause) {
    throw new ModelPointerError(entry.key, entry.revision, 'is not JSON', { cause });
  }
  const parsed = ModelPointerSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ModelPointerError(
      entry.key,
      entry.revision,
      `${issue?.path.join('.') || 'value'}: ${issue?.message ?? 'invalid'}`,
    );
  }
  return parsed.data;
}

/** The hex SHA-256 of an object store digest (`SHA-256=<base64url>`), or undefined. */
export function digestHex(digest: string): string | undefined {
  if (!digest.startsWith('SHA-256=')) return undefined;
  const hex = Buffer.from(digest.slice(8), 'base64url').toString('hex');
  return hex.length === 64 ? hex : undefined;
}

/** Buckets of a {@link ModelStore}. */
export interface ModelStoreOptions {
  /** KV bucket of the pointers; default `CUBESTREAM_MODEL`. */
  readonly bucket?: string;
  /** Object Store bucket of the archives; default `CUBESTREAM_MODELS`. */
  readonly store?: string;
}

/** What {@link ModelStore.push} did. */
export interface PushResult {
  readonly pointer: ModelPointer;
  /** The key's new revision; undefined when the key already pointed at this version (nothing written). */
  readonly revision: number | undefined;
  /** False when the store already held the same archive under this version. */
  readonly stored: boolean;
}

/** One archive in the store, for {@link ModelStore.list}. */
export interface StoredModel {
  readonly object: string;
  readonly bytes: number;
  readonly sha256: string | undefined;
  /** When it was stored (ISO 8601). */
  readonly storedAt: string;
  readonly metadata: Readonly<Record<string, string>>;
}

/** A running watch of one key ({@link ModelStore.watch}). */
export interface ModelKeyWatch {
  /** Resolves when the watch ends (stopped, or the connection closed). */
  readonly ended: Promise<void>;
  stop(): void;
}

/**
 * Bundles and pointers on one NATS connection (which the caller opened and closes). Buckets are
 * created when missing: the KV bucket with 64 revisions per key, the Object Store on file storage.
 *
 * @example
 * ```ts
 * import { connect } from '@nats-io/transport-node';
 * import { packBundleArchive } from '../../src/model/bundle-archive.js';
 * const nc = await connect({ servers: 'nats://127.0.0.1:4222' });
 * const store = new ModelStore(nc);
 * const { pointer } = await store.push(await packBundleArchive('models/demo'), 'default');
 * (await store.pointer('default'))?.pointer.version; // pointer.version
 * await nc.close();
 * ```
 */
export class ModelStore {
  readonly bucket: string;
  readonly storeName: string;
  #kv: Promise<KV> | undefined;
  #objects: Promise<ObjectStore> | undefined;

  constructor(
    private readonly nc: NatsConnection,
    options: ModelStoreOptions = {},
  ) {
    this.bucket = options.bucket ?? MODEL_STORE_DEFAULTS.bucket;
    this.storeName = options.store ?? MODEL_STORE_DEFAULTS.store;
  }

  /** The KV bucket of pointers, created when missing. */
  kv(): Promise<KV> {
    this.#kv ??= new Kvm(jetstream(this.nc))
      .create(this.bucket, { history: MODEL_STORE_DEFAULTS.history, storage: StorageType.File })
      .catch((error: unknown) => {
        this.#kv = undefined;
        throw new ModelStoreError(`KV bucket ${this.bucket} cannot be opened: ${String(error)}`, {
          cause: error,
        });
      });
    return this.#kv;
  }

  /** The Object Store of archives, created when missing. */
  objects(): Promise<ObjectStore> {
    this.#objects ??= new Objm(jetstream(this.nc))
      .create(this.storeName, { storage: StorageType.File, description: 'cubestream model bundles' })
      .catch((error: unknown) => {
        this.#objects = undefined;
        throw new ModelStoreError(`object store ${this.storeName} cannot be opened: ${String(error)}`, {
          cause: error,
        });
      });
    return this.#objects;
  }

  /**
   * What `key` points at now; undefined when it was never set or was deleted.
   *
   * @throws {@link ModelPointerError} when its value is not a pointer
   */
  async pointer(key: string): Promise<KeyedPointer | undefined> {
    const entry = await (await this.kv()).get(key);
    if (entry === null || entry.operation !== 'PUT') return undefined;
    return { key, revision: entry.revision, pointer: parsePointer(entry) };
  }

  /**
   * Stores an archive as object `<version>` (unless the same bytes are there already) and points
   * `key` at it, with `previous` the version it pointed at before. A version is immutable: an
   * object of that name with other bytes is refused. Nothing is written to the key when it
   * already points at this version.
   *
   * @throws {@link ModelStoreError} when the version is stored with other contents
   */
  async push(archive: BundleArchive, key: string, now = new Date()): Promise<PushResult> {
    const { version } = archive.bundle.manifest;
    const objects = await this.objects();
    const existing = await objects.info(version);
    const existingSha = existing === null || existing.deleted ? undefined : digestHex(existing.digest);
    if (existingSha !== undefined && existingSha !== archive.sha256) {
      throw new ModelStoreError(
        `version ${version} is already stored in ${this.storeName} with other contents (sha256 ${existingSha}, this bundle ${archive.sha256}); give the bundle a new version`,
      );
    }
    if (existingSha === undefined) {
      await objects.putBlob(
        {
          name: version,
          description: `cubestream bundle ${version}`,
          metadata: { version, sha256: archive.sha256, weightsSha256: archive.bundle.weightsSha256 },
        },
        archive.bytes,
      );
    }
    const current = await this.pointer(key).catch(() => undefined);
    const base = {
      schema: MODEL_POINTER_SCHEMA,
      version,
      object: version,
      sha256: archive.sha256,
      weightsSha256: archive.bundle.weightsSha256,
      bytes: archive.bytes.length,
    } as const;
    if (
      current !== undefined &&
      current.pointer.version === version &&
      current.pointer.sha256 === archive.sha256
    )
      return { pointer: current.pointer, revision: undefined, stored: existingSha === undefined };
    const pointer: ModelPointer = {
      ...base,
      pushedAt: now.toISOString(),
      previous: current?.pointer.version ?? null,
    };
    const revision = await (await this.kv()).put(key, JSON.stringify(pointer));
    return { pointer, revision, stored: existingSha === undefined };
  }

  /** Every pointer `key` held that is still in its history, oldest first (deletes left out). */
  async history(key: string): Promise<KeyedPointer[]> {
    const out: KeyedPointer[] = [];
    const iterator = await (await this.kv()).history({ key });
    for await (const entry of iterator) {
      if (entry.operation !== 'PUT') continue;
      try {
        out.push({ key, revision: entry.revision, pointer: parsePointer(entry) });
      } catch {
        // a value that is not a pointer is not a version to go back to
      }
    }
    return out;
  }

  /**
   * Points `key` back at the version it pointed at before (`previous`), as that version was
   * pushed (found in the key's history); the new pointer's `previous` is that version's own, so
   * rolling back again goes one further back.
   *
   * @throws {@link ModelStoreError} when the key is unset, has no previous version, or that
   *   version's pointer is no longer in the key's history
   */
  async rollback(
    key: string,
    now = new Date(),
  ): Promise<{ pointer: ModelPointer; revision: number; from: string }> {
    const current = await this.pointer(key);
    if (current === undefined) throw new ModelStoreError(`model key ${key} in ${this.bucket} is not set`);
    const target = current.pointer.previous;
    if (target === null)
      throw new ModelStoreError(
        `model key ${key} points at ${current.pointer.version}, which has no previous version`,
      );
    const earlier = (await this.history(key)).filter((entry) => entry.pointer.version === target).at(-1);
    if (earlier === undefined) {
      throw new ModelStoreError(
        `model key ${key}: the pointer of ${target} is no longer in its history; push that bundle again`,
      );
    }
    const objects = await this.objects();
    const info = await objects.info(earlier.pointer.object);
    if (info === null || info.deleted)
      throw new ModelStoreError(
        `version ${target} is no longer in ${this.storeName}; push that bundle again`,
      );
    const { rolledBackFrom: _dropped, ...rest } = earlier.pointer;
    const pointer: ModelPointer = {
      ...rest,
      pushedAt: now.toISOString(),
      rolledBackFrom: current.pointer.version,
    };
    const revision = await (await this.kv()).put(key, JSON.stringify(pointer));
    return { pointer, revision, from: current.pointer.version };
  }

  /** The archives in the store and what each key points at. */
  async list(): Promise<{ models: StoredModel[]; keys: KeyedPointer[] }> {
    const infos: ObjectInfo[] = await (await this.objects()).list();
    const models = infos
      .filter((info) => !info.deleted)
      .map((info) => ({
        object: info.name,
        bytes: info.size,
        sha256: digestHex(info.digest),
        storedAt: info.mtime,
        metadata: info.metadata ?? {},
      }))
      .sort((a, b) => a.storedAt.localeCompare(b.storedAt) || a.object.localeCompare(b.object));
    const kv = await this.kv();
    const names: string[] = [];
    for await (const name of await kv.keys()) names.push(name);
    const keys: KeyedPointer[] = [];
    for (const name of names.sort()) {
      const keyed = await this.pointer(name).catch(() => undefined);
      if (keyed !== undefined) keys.push(keyed);
    }
    return { models, keys };
  }

  /**
   * The archive a pointer names, checked against the pointer's SHA-256.
   *
   * @throws {@link ModelStoreError} when the object is missing; {@link ModelIntegrityError} when its bytes do not match
   */
  async download(pointer: ModelPointer): Promise<Uint8Array> {
    const bytes = await (await this.objects()).getBlob(pointer.object);
    if (bytes === null) throw new ModelStoreError(`object ${pointer.object} is not in ${this.storeName}`);
    const sha256 = sha256Hex(bytes);
    if (sha256 !== pointer.sha256) {
      throw new ModelIntegrityError(
        `object ${pointer.object} has SHA-256 ${sha256} but the pointer says ${pointer.sha256} (changed or corrupted in the store)`,
      );
    }
    return bytes;
  }

  /**
   * Calls `onEntry` with the key's current value (if any) and then with every change, in order,
   * until stopped; `onEntry` is awaited before the next one. A deleted key comes as `undefined`.
   */
  async watch(key: string, onEntry: (entry: KvEntry | undefined) => Promise<void>): Promise<ModelKeyWatch> {
    const iterator = await (await this.kv()).watch({ key });
    const ended = (async () => {
      for await (const entry of iterator) await onEntry(entry.operation === 'PUT' ? entry : undefined);
    })();
    return { ended, stop: () => iterator.stop() };
  }
}
