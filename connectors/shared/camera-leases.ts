import { jetstream } from '@nats-io/jetstream';
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

/** Why a worker no longer owns a camera (see {@link CameraLeasesOptions.onLost}). */
export type LeaseLoss = 'released' | 'taken' | 'expired';

/**
 * Share of the TTL after the last confirmed renewal at which a worker stops consuming a camera
 * on its own (two renewals in a row failed), so that it has stopped before the lease can expire
 * on the server and another worker take the camera.
 */
export const LEASE_FENCE_SHARE = 0.75;

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
  /**
   * This worker now owns `camera`: start consuming it. Leases are renewed meanwhile. `revision`
   * is the lease entry's revision when it was created: every later ownership of the camera has
   * a higher one (KV revisions only grow), so it orders owners (camera checkpoints use it).
   */
  readonly onAcquired: (camera: string, revision: number) => Promise<void>;
  /**
   * This worker no longer owns `camera`: `released` (rebalance or close; the lease is kept
   * until this settles, then deleted), `taken` (another worker holds it: the renewal found
   * another owner) or `expired` (not renewed for {@link LEASE_FENCE_SHARE} of the TTL, the
   * broker unreachable: stop before another worker may take it).
   */
  readonly onLost: (camera: string, why: LeaseLoss) => Promise<void>;
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
 * dies: after the TTL) leaves cameras the others acquire. One tick every third of the TTL. A
 * camera handed back stays leased, and renewed, until its `onLost` is done (its frames drained,
 * its state written): the next owner starts where it stopped, and the other leases are renewed
 * meanwhile.
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
  /**
   * Cameras being handed back (`onLost(.., 'released')` running: their frames drain and their
   * state is written) and the revision of their lease, still renewed so that no other worker
   * starts on them before the hand-back is done; deleted after.
   */
  readonly #releasing = new Map<string, number>();
  /** Cameras whose `onLost` is running (released or taken): not acquired again until it is done. */
  readonly #leaving = new Map<string, Promise<void>>();
  /** Cameras whose `onAcquired` is running (beside the ticks, which renew their leases meanwhile). */
  readonly #arriving = new Map<string, Promise<void>>();
  /** When each owned camera's lease was last confirmed: the send time of its last renewal, epoch ms. */
  readonly #renewedAt = new Map<string, number>();
  #fence: NodeJS.Timeout | undefined;
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
    // Lease operations time out well inside the TTL, so that a tick retries in time.
    const timeout = Math.max(500, Math.floor(this.#ttlMs / 4));
    this.#kv = await new Kvm(jetstream(this.#options.nc, { timeout })).create(bucket, {
      ttl: this.#ttlMs,
      history: 1,
      replicas: this.#options.replicas ?? 1,
    });
    await this.#run();
    this.#timer = setInterval(() => void this.#run(), Math.max(100, Math.floor(this.#ttlMs / 3)));
    this.#timer.unref();
    // Beside the ticks (which may wait on an unreachable broker): stop in time on a lease not renewed.
    this.#fence = setInterval(() => this.#fenceExpired(), Math.max(50, Math.floor(this.#ttlMs / 10)));
    this.#fence.unref();
  }

  #fenceExpired(): void {
    const now = Date.now();
    for (const camera of [...this.#owned.keys()]) {
      const age = now - (this.#renewedAt.get(camera) ?? now);
      if (age <= this.#ttlMs * LEASE_FENCE_SHARE) continue;
      this.#options.onError?.(
        new Error(
          `camera ${camera}: lease not renewed for ${age} ms (TTL ${this.#ttlMs} ms): stopped consuming it before another worker may take it`,
        ),
      );
      this.#lost(camera, 'expired');
    }
  }

  /**
   * Stops taking cameras, hands every camera back (`onLost(.., 'released')`, then its lease
   * deleted); leases are renewed until each hand-back is done.
   */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#tick;
    for (const camera of [...this.#owned.keys()]) this.#release(camera);
    while (this.#leaving.size > 0) await Promise.all([...this.#leaving.values()]);
    if (this.#timer !== undefined) clearInterval(this.#timer);
    if (this.#fence !== undefined) clearInterval(this.#fence);
    await this.#tick;
    await this.#kv?.delete(`workers.${this.#options.workerId}`).catch(() => undefined);
  }

  #run(): Promise<void> {
    // Ticks never overlap; a camera draining does not hold them up (it is handed back beside).
    this.#tick = this.#tick
      .then(() => this.#once())
      .catch((error: unknown) => {
        this.#options.onError?.(asError(error));
      });
    return this.#tick;
  }

  /** Runs `onAcquired` beside the ticks; one that fails gives the lease back (retried on a tick). */
  #arrive(camera: string, revision: number): void {
    const arriving = this.#options
      .onAcquired(camera, revision)
      .catch((error: unknown) => {
        this.#options.onError?.(asError(error));
        const revision = this.#owned.get(camera);
        if (revision === undefined) return;
        this.#owned.delete(camera);
        this.#renewedAt.delete(camera);
        this.#tick = this.#tick.then(async () => {
          await this.#kv?.delete(`cameras.${camera}`, { previousSeq: revision }).catch(() => undefined);
        });
      })
      .finally(() => this.#arriving.delete(camera));
    this.#arriving.set(camera, arriving);
  }

  /** `onLost`, once the camera's `onAcquired` is done. */
  #onLost(camera: string, why: LeaseLoss): Promise<void> {
    const arriving = this.#arriving.get(camera) ?? Promise.resolve();
    return arriving.then(() => this.#options.onLost(camera, why));
  }

  /** Runs `onLost` beside the ticks; a released camera's lease is renewed until it is done. */
  #release(camera: string): void {
    const revision = this.#owned.get(camera);
    this.#owned.delete(camera);
    this.#renewedAt.delete(camera);
    if (revision === undefined) return;
    this.#releasing.set(camera, revision);
    const leaving = this.#onLost(camera, 'released')
      .catch((error: unknown) => this.#options.onError?.(asError(error)))
      .then(() => {
        // Deleted between two ticks, on the revision the last renewal wrote.
        this.#tick = this.#tick.then(async () => {
          const last = this.#releasing.get(camera);
          this.#releasing.delete(camera);
          if (last !== undefined)
            await this.#kv?.delete(`cameras.${camera}`, { previousSeq: last }).catch(() => undefined);
        });
        return this.#tick;
      })
      .finally(() => this.#leaving.delete(camera));
    this.#leaving.set(camera, leaving);
  }

  /** Another worker holds the lease, or it was not renewed in time: `onLost` runs beside the ticks. */
  #lost(camera: string, why: 'taken' | 'expired'): void {
    this.#owned.delete(camera);
    this.#renewedAt.delete(camera);
    const leaving = this.#onLost(camera, why)
      .catch((error: unknown) => this.#options.onError?.(asError(error)))
      .finally(() => this.#leaving.delete(camera));
    this.#leaving.set(camera, leaving);
  }

  async #once(): Promise<void> {
    const kv = this.#kv;
    if (kv === undefined) return;
    const { workerId, cameras } = this.#options;
    if (!this.#closed) await kv.put(`workers.${workerId}`, workerId);
    // Renew the cameras being handed back: nobody else starts on them before that is done.
    for (const [camera, revision] of [...this.#releasing]) {
      try {
        this.#releasing.set(camera, await kv.update(`cameras.${camera}`, workerId, revision));
      } catch (error) {
        this.#options.onError?.(asError(error));
      }
    }
    if (this.#closed) return;
    // Renew: compare-and-set on the revision this worker wrote last.
    for (const [camera, revision] of [...this.#owned]) {
      const key = `cameras.${camera}`;
      const sentAt = Date.now();
      // Stopped meanwhile (fenced) or handed back: not renewed here.
      const renewed = (next: number): void => {
        if (this.#owned.get(camera) !== revision) return;
        this.#owned.set(camera, next);
        this.#renewedAt.set(camera, sentAt);
      };
      try {
        renewed(await kv.update(key, workerId, revision));
        continue;
      } catch (error) {
        // Another revision: expired (retake it if still free) or taken by another worker. A
        // broker that cannot be reached throws from `get`: the lease is kept, the next tick retries.
        const entry = await kv.get(key);
        if (entry === null || entry.operation !== 'PUT') {
          const retaken = await kv.create(key, workerId).catch(() => undefined);
          if (retaken !== undefined) {
            renewed(retaken);
            continue;
          }
        } else if (entry.string() === workerId) {
          renewed(entry.revision);
          continue;
        }
        this.#options.onError?.(asError(error));
      }
      if (this.#owned.has(camera)) this.#lost(camera, 'taken');
    }
    const workers = [];
    for await (const key of await kv.keys('workers.*')) workers.push(key);
    const live = workers.map((key) => key.slice('workers.'.length)).sort();
    if (!live.includes(workerId)) live.push(workerId);
    live.sort();
    const share = fairShare(cameras.length, live.length, live.indexOf(workerId));
    // Over the share (a worker joined): hand back the last cameras taken.
    for (const camera of [...this.#owned.keys()].slice(share)) this.#release(camera);
    // Under the share: take free cameras, starting at a worker-specific place to spread them.
    const start =
      [...workerId].reduce((h, c) => (h * 31 + c.charCodeAt(0)) >>> 0, 7) % Math.max(1, cameras.length);
    for (let i = 0; i < cameras.length && this.#owned.size < share; i++) {
      if (this.#closed) return;
      const camera = cameras[(start + i) % cameras.length] as string;
      if (this.#owned.has(camera) || this.#leaving.has(camera)) continue;
      let revision: number;
      const sentAt = Date.now();
      try {
        revision = await kv.create(`cameras.${camera}`, workerId);
      } catch {
        continue; // held by another worker
      }
      this.#owned.set(camera, revision);
      this.#renewedAt.set(camera, sentAt);
      this.#arrive(camera, revision);
    }
  }
}
