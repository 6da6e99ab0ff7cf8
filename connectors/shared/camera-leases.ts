import { type KV, Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { asError } from '../../src/core/errors.js';

/** Defaults of {@link CameraLeases}. */
export const CAMERA_LEASE_DEFAULTS = {
  /** The KV bucket holding `cameras.<id>` (owner) and `workers.<id>` (presence). */
  bucket: 'CUBESTREAM_LEASES',
  /** A lease or a worker's presence not renewed for this long expires (the bucket's TTL), ms. */
  ttlMs: 10_000,
} as const;

/** Options of {@link CameraLeases}. */
export interface CameraLeasesOptions {
  /** The connection the KV bucket is reached on (not closed by the leases). */
  readonly nc: NatsConnection;
  /** Unique per worker process, e.g. `<host>-<pid>-<random>` (a KV key token: `[A-Za-z0-9_-]`). */
  readonly workerId: string;
  /** The cameras to share among the workers (every worker must list the same ones). */
  readonly cameras: readonly string[];
  /** The bucket; default `CUBESTREAM_LEASES` (created with `ttlMs` as its TTL when missing). */
  readonly bucket?: string;
  /** Lease time to live, ms; renewed every third of it. Default 10 000. */
  readonly ttlMs?: number;
  /** Replicas of the bucket when it is created (a cluster: 3 survives a node); default 1. */
  readonly replicas?: number;
  /** This worker now owns `camera`: start consuming it. Leases are renewed meanwhile. */
  readonly onAcquired: (camera: string) => Promise<void>;
  /**
   * This worker no longer owns `camera`: `released` (rebalance or close; the lease is deleted
   * once this settles) or `taken` (another worker holds it: the renewal found another owner).
   */
  readonly onLost: (camera: string, why: 'released' | 'taken') => Promise<void>;
  /** A KV operation failed (the broker is unreachable, …); the next tick retries. */
  readonly onError?: (error: Error) => void;
}

/**
 * Cameras a worker should hold: with `workers` live workers sorted by id and this one at `rank`,
 * ⌊cameras / workers⌋, plus one for the first `cameras mod workers` ranks (so the shares add up
 * to the cameras and differ by one at most).
 */
export function fairShare(cameras: number, workers: number, rank: number): number {
  const n = Math.max(1, workers);
  return Math.floor(cameras / n) + (rank < cameras % n ? 1 : 0);
}

/**
 * Camera leases in a NATS KV bucket, so that each camera's frames are decided by one worker at a
 * time and its state never forks: key `cameras.<id>` holds the owner's worker id, created only
 * when absent (`create`) and renewed by compare-and-set on its revision (`update`); the bucket's
 * TTL expires the leases of a worker that died. Each worker also renews `workers.<id>`, so every
 * worker counts the live ones and holds at most its fair share ({@link fairShare}): a worker
 * that joins makes the others release cameras, which it then acquires; a worker that leaves (or
 * dies: after the TTL) leaves cameras the others acquire. One tick every third of the TTL.
 *
 * @example
 * ```ts
 * declare const nc: import('@nats-io/transport-node').NatsConnection;
 * const leases = new CameraLeases({
 *   nc, workerId: 'w1', cameras: ['cam0', 'cam1'],
 *   onAcquired: async (camera) => console.log('consume', camera),
 *   onLost: async (camera, why) => console.log('stop', camera, why),
 * });
 * await leases.start();
 * ```
 */
export class CameraLeases {
  readonly #options: CameraLeasesOptions;
  readonly #ttlMs: number;
  /** Owned cameras and the revision of their lease entry. */
  readonly #owned = new Map<string, number>();
  #kv: KV | undefined;
  #timer: NodeJS.Timeout | undefined;
  #tick: Promise<void> = Promise.resolve();
  #closed = false;

  /** @param options - see {@link CameraLeasesOptions} */
  constructor(options: CameraLeasesOptions) {
    this.#options = options;
    this.#ttlMs = options.ttlMs ?? CAMERA_LEASE_DEFAULTS.ttlMs;
    if (!/^[A-Za-z0-9_-]+$/.test(options.workerId))
      throw new Error(`camera leases: worker id ${JSON.stringify(options.workerId)} must be [A-Za-z0-9_-]+`);
  }

  /** Cameras this worker holds now. */
  get owned(): string[] {
    return [...this.#owned.keys()];
  }

  /** Opens (or creates) the bucket, takes a first share, and renews every third of the TTL. */
  async start(): Promise<void> {
    const bucket = this.#options.bucket ?? CAMERA_LEASE_DEFAULTS.bucket;
    this.#kv = await new Kvm(this.#options.nc).create(bucket, {
      ttl: this.#ttlMs,
      history: 1,
      replicas: this.#options.replicas ?? 1,
    });
    await this.#run();
    this.#timer = setInterval(() => void this.#run(), Math.max(100, Math.floor(this.#ttlMs / 3)));
    this.#timer.unref();
  }

  /** Stops renewing, hands every camera back (`onLost(.., 'released')`, then its lease deleted). */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    await this.#tick;
    const kv = this.#kv;
    for (const [camera, revision] of [...this.#owned]) {
      this.#owned.delete(camera);
      await this.#options.onLost(camera, 'released').catch(() => undefined);
      await kv?.delete(`cameras.${camera}`, { previousSeq: revision }).catch(() => undefined);
    }
    await kv?.delete(`workers.${this.#options.workerId}`).catch(() => undefined);
  }

  #run(): Promise<void> {
    // Ticks never overlap: a slow one (a camera draining) delays the next.
    this.#tick = this.#tick
      .then(() => (this.#closed ? undefined : this.#once()))
      .catch((error: unknown) => {
        this.#options.onError?.(asError(error));
      });
    return this.#tick;
  }

  async #once(): Promise<void> {
    const kv = this.#kv;
    if (kv === undefined) return;
    const { workerId, cameras } = this.#options;
    await kv.put(`workers.${workerId}`, workerId);
    // Renew: compare-and-set on the revision this worker wrote last.
    for (const [camera, revision] of [...this.#owned]) {
      const key = `cameras.${camera}`;
      try {
        this.#owned.set(camera, await kv.update(key, workerId, revision));
        continue;
      } catch (error) {
        // Another revision: expired (retake it if still free) or taken by another worker. A
        // broker that cannot be reached throws from `get`: the lease is kept, the next tick retries.
        const entry = await kv.get(key);
        if (entry === null || entry.operation !== 'PUT') {
          const retaken = await kv.create(key, workerId).catch(() => undefined);
          if (retaken !== undefined) {
            this.#owned.set(camera, retaken);
            continue;
          }
        } else if (entry.string() === workerId) {
          this.#owned.set(camera, entry.revision);
          continue;
        }
        this.#options.onError?.(asError(error));
      }
      this.#owned.delete(camera);
      await this.#options.onLost(camera, 'taken');
    }
    const workers = [];
    for await (const key of await kv.keys('workers.*')) workers.push(key);
    const live = workers.map((key) => key.slice('workers.'.length)).sort();
    if (!live.includes(workerId)) live.push(workerId);
    live.sort();
    const share = fairShare(cameras.length, live.length, live.indexOf(workerId));
    // Over the share (a worker joined): hand back the last cameras taken.
    for (const camera of [...this.#owned.keys()].slice(share)) {
      if (this.#closed) return;
      const revision = this.#owned.get(camera);
      this.#owned.delete(camera);
      await this.#options.onLost(camera, 'released');
      await kv.delete(`cameras.${camera}`, revision === undefined ? {} : { previousSeq: revision });
    }
    // Under the share: take free cameras, starting at a worker-specific place to spread them.
    const start =
      [...workerId].reduce((h, c) => (h * 31 + c.charCodeAt(0)) >>> 0, 7) % Math.max(1, cameras.length);
    for (let i = 0; i < cameras.length && this.#owned.size < share; i++) {
      if (this.#closed) return;
      const camera = cameras[(start + i) % cameras.length] as string;
      if (this.#owned.has(camera)) continue;
      let revision: number;
      try {
        revision = await kv.create(`cameras.${camera}`, workerId);
      } catch {
        continue; // held by another worker
      }
      this.#owned.set(camera, revision);
      await this.#options.onAcquired(camera);
    }
  }
}
