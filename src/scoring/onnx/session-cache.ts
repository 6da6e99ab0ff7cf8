import type { InferenceSession } from 'onnxruntime-node';

/** Default number of distinct sessions a {@link SessionCache} keeps before evicting the oldest. */
export const DEFAULT_SESSION_CACHE_LIMIT = 4;

/** A cached session with whatever the caller derived with it (graph description, channel counts). */
export interface CachedSession<M> {
  readonly session: InferenceSession;
  readonly meta: M;
}

/**
 * onnxruntime sessions keyed by a string (e.g. input element type + wavelength vector),
 * created once per key, shared by every frame with that key, and released when evicted or
 * on {@link SessionCache.releaseAll}. Releases wait for the runs started through
 * {@link SessionCache.track} to settle, so a session is never freed under a running inference.
 *
 * @example
 * ```ts
 * import { Tensor } from 'onnxruntime-node';
 * import { rxFromBundle } from 'cubestream';
 * import { createOrtSession } from './ort-session.js';
 * import { buildRxGraph, type RxGraph } from './rx-graph.js';
 * const cache = new SessionCache<RxGraph>();
 * const { session, meta } = await cache.get('rx|float32', async () => {
 *   const g = buildRxGraph(rxFromBundle(bundle).rx);
 *   return { session: await createOrtSession(g.bytes), meta: g };
 * });
 * const x = new Tensor('float32', frame.data, [frame.height * frame.width, meta.bands]);
 * const out = await cache.track(session.run({ x }));
 * await cache.releaseAll(); // on finalize
 * ```
 */
export class SessionCache<M> {
  readonly #entries = new Map<string, Promise<CachedSession<M>>>();
  readonly #limit: number;
  #inflight: Promise<unknown> = Promise.resolve();

  /** @param limit - distinct keys kept before the oldest is released (default 4) */
  constructor(limit: number = DEFAULT_SESSION_CACHE_LIMIT) {
    this.#limit = Math.max(1, Math.floor(limit));
  }

  /** Sessions created or being created. */
  get size(): number {
    return this.#entries.size;
  }

  /**
   * The session for `key`, created with `create` on first use. A failed creation is not
   * cached (the next call tries again) and rejects with `create`'s error.
   */
  get(key: string, create: () => Promise<CachedSession<M>>): Promise<CachedSession<M>> {
    const known = this.#entries.get(key);
    if (known !== undefined) return known;
    if (this.#entries.size >= this.#limit) {
      const oldest = this.#entries.keys().next().value;
      if (oldest !== undefined) this.#release(oldest);
    }
    const created = create();
    this.#entries.set(key, created);
    created.catch(() => {
      if (this.#entries.get(key) === created) this.#entries.delete(key);
    });
    return created;
  }

  /** Registers a run so that releases wait for it; returns the same promise. */
  track<T>(run: Promise<T>): Promise<T> {
    this.#inflight = Promise.allSettled([this.#inflight, run]);
    return run;
  }

  #release(key: string): Promise<void> {
    const entry = this.#entries.get(key);
    this.#entries.delete(key);
    if (entry === undefined) return Promise.resolve();
    const after = this.#inflight;
    return Promise.allSettled([entry, after]).then(async ([created]) => {
      if (created.status === 'fulfilled') await created.value.session.release().catch(() => undefined);
    });
  }

  /** Releases every session once the tracked runs have settled. Never rejects. */
  async releaseAll(): Promise<void> {
    await Promise.all([...this.#entries.keys()].map((key) => this.#release(key)));
  }
}
