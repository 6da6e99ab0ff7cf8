import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { asError } from '../../../core/errors.js';
import { startWorker } from '../../../core/start-worker.js';
import type { ChunkRunRequest, ChunkRunResult } from '../chunk-runner.js';
import { OnnxRuntimeError } from '../onnx-errors.js';
import type { ChunkSource, PoolReply, PoolRequest, RunMessage } from './pool-messages.js';

/** Default number of workers: one per core, at most 2 (the reference machine's cores). */
export const DEFAULT_POOL_WORKERS = Math.max(1, Math.min(2, availableParallelism()));

/** Graphs (session keys) a pool keeps loaded before releasing the least recently used. */
export const POOL_GRAPH_LIMIT = 16;

/** Chunks queued per worker: one running, one waiting, so no worker idles on a round trip. */
const QUEUED_PER_WORKER = 2;

/** Options of {@link OrtWorkerPool}. */
export interface OrtWorkerPoolOptions {
  /** Worker threads, each with one single-threaded session per graph (default {@link DEFAULT_POOL_WORKERS}). */
  readonly workers?: number;
}

/** One block to score in chunks on the pool, with the graph under `key`. */
export interface PoolChunkRequest extends ChunkRunRequest {
  /** Key of a graph loaded with {@link OrtWorkerPool.load}. */
  readonly key: string;
}

interface Pending {
  readonly resolve: (reply: PoolReply) => void;
  readonly reject: (error: Error) => void;
}

/** A shared staging area of a worker: one chunk's spectra in, its scores out. */
interface Stage {
  input: SharedArrayBuffer;
  scores: SharedArrayBuffer;
  busy: boolean;
}

interface Slot {
  worker: Worker;
  readonly pending: Map<number, Pending>;
  /** One staging area per chunk that may be queued on the worker; a busy one holds a queued chunk. */
  readonly stages: Stage[];
  chunks: number;
}

/** Smallest chunk of a block's tail, in pixels (a run costs ~0.1 ms of overhead). */
const MIN_TAIL_CHUNK = 1024;

/** One chunk of a block: its first pixel and its pixel count. */
export interface ChunkSpan {
  readonly start: number;
  readonly pixels: number;
}

/**
 * How a block of `pixels` is cut for `workers` workers (guided scheduling): chunks of at most
 * `maxChunk` while plenty remains, then shrinking to 1/`workers` of the rest (not below 1,024
 * pixels), so that the workers finish a block together instead of one waiting for the other's
 * last big chunk. A small block is split so that every worker gets a share. Deterministic.
 *
 * @example
 * ```ts
 * chunkPlan(64_000, 8192, 2).map((c) => c.pixels); // [8192 x 6, 7424, 3712, 1856, 1024, 832]
 * ```
 */
export function chunkPlan(pixels: number, maxChunk: number, workers: number): ChunkSpan[] {
  const max = Math.max(1, Math.floor(maxChunk));
  const min = Math.min(max, MIN_TAIL_CHUNK);
  const spans: ChunkSpan[] = [];
  let start = 0;
  while (start < pixels) {
    const remaining = pixels - start;
    const share = Math.ceil(remaining / workers);
    let size = Math.min(remaining, Math.max(min, Math.min(max, share)));
    if (remaining - size < min / 2) size = remaining; // no sliver of a chunk at the end
    spans.push({ start, pixels: size });
    start += size;
  }
  return spans;
}

/**
 * A block of `pixels` cut into chunks of exactly `maxChunk` (the last one shorter): the plan
 * of a {@link ChunkRunRequest} with `grid`.
 *
 * @example
 * ```ts
 * gridPlan(10_000, 4096).map((c) => c.pixels); // [4096, 4096, 1808]
 * ```
 */
export function gridPlan(pixels: number, maxChunk: number): ChunkSpan[] {
  const size = Math.max(1, Math.floor(maxChunk));
  const spans: ChunkSpan[] = [];
  for (let start = 0; start < pixels; start += size)
    spans.push({ start, pixels: Math.min(size, pixels - start) });
  return spans;
}

/**
 * A pool of worker threads, each holding one single-threaded onnxruntime-node session per
 * graph, that scores a block in chunks on all workers at once: a block's latency drops to
 * about its CPU time divided by the workers, and the event loop stays free meanwhile. Chunks
 * are handed out as workers free up (a worker slowed by another process simply takes fewer),
 * results are put back in pixel order, so the outcome is the same as one session scoring the
 * chunks in turn. A worker that dies is replaced, reloaded, and its chunks fail with an error.
 *
 * @example
 * ```ts
 * import { rxFromBundle } from 'cubestream';
 * import { buildRxGraph } from '../rx-graph.js';
 * const graph = buildRxGraph(rxFromBundle(bundle).rx, { inputType: 'uint16' });
 * const pool = new OrtWorkerPool({ workers: 2 });
 * await pool.load('rx|uint16', graph.bytes, graph.describe);
 * const data = new Uint16Array(frame.height * frame.width * frame.bands); // raw counts
 * const { scores } = await pool.runChunks({ key: 'rx|uint16', data, inputType: 'uint16', pixels: frame.height * frame.width,
 *   bands: frame.bands, chunkPixels: 8192, inputName: 'x', scoresName: 'scores', feeds: {}, outputs: [] });
 * await pool.close();
 * ```
 */
export class OrtWorkerPool {
  /** Number of workers. */
  readonly size: number;
  readonly #slots: Slot[] = [];
  readonly #graphs = new Map<string, { bytes: Uint8Array; describe: string; loaded: Promise<void> }>();
  readonly #waiting: (() => void)[] = [];
  readonly #active = new Set<Promise<unknown>>();
  #nextId = 1;
  #closed = false;

  /** @throws {@link OnnxRuntimeError} (phase `create`) for a worker count below 1 */
  constructor(options: OrtWorkerPoolOptions = {}) {
    this.size = OrtWorkerPool.checkWorkers(options.workers);
    for (let i = 0; i < this.size; i++) this.#slots.push(this.#spawn());
  }

  /**
   * The worker count `workers` asks for (default {@link DEFAULT_POOL_WORKERS}).
   *
   * @throws {@link OnnxRuntimeError} (phase `create`) unless it is an integer >= 1
   */
  static checkWorkers(workers: number | undefined): number {
    const count = workers ?? DEFAULT_POOL_WORKERS;
    if (!Number.isSafeInteger(count) || count < 1) {
      throw new OnnxRuntimeError('create', 'worker pool', `workers = ${count} must be an integer >= 1`);
    }
    return count;
  }

  #spawn(): Slot {
    const slot: Slot = {
      worker: startWorker(import.meta.url, 'ort-pool-worker'),
      pending: new Map(),
      stages: Array.from({ length: QUEUED_PER_WORKER }, () => ({
        input: new SharedArrayBuffer(0),
        scores: new SharedArrayBuffer(0),
        busy: false,
      })),
      chunks: 0,
    };
    // An idle worker does not keep the process alive; one with requests in flight does.
    slot.worker.unref();
    slot.worker.on('message', (reply: PoolReply) => {
      const pending = slot.pending.get(reply.id);
      slot.pending.delete(reply.id);
      if (slot.pending.size === 0) slot.worker.unref();
      pending?.resolve(reply);
    });
    const fail = (cause: unknown): void => {
      const index = this.#slots.indexOf(slot);
      const error = asError(cause);
      for (const pending of slot.pending.values()) pending.reject(error);
      slot.pending.clear();
      if (index >= 0 && !this.#closed) {
        // Replace the dead worker and reload every graph into it (messages are handled in order).
        const fresh = this.#spawn();
        this.#slots[index] = fresh;
        for (const [key, graph] of this.#graphs) {
          void this.#request(fresh, { type: 'load', id: this.#id(), key, bytes: graph.bytes }).catch(
            () => undefined,
          );
        }
        this.#wake();
      }
    };
    slot.worker.on('error', fail);
    slot.worker.on('exit', (code) => fail(new Error(`worker exited with code ${code}`)));
    return slot;
  }

  #id(): number {
    return this.#nextId++;
  }

  #request(slot: Slot, message: PoolRequest): Promise<PoolReply> {
    return new Promise((resolve, reject) => {
      if (slot.pending.size === 0) slot.worker.ref();
      slot.pending.set(message.id, { resolve, reject });
      slot.worker.postMessage(message);
    });
  }

  /** Resolves once every worker has started and loaded onnxruntime (a warm-up before the first block). */
  async ready(): Promise<void> {
    await Promise.all(this.#slots.map((slot) => this.#request(slot, { type: 'ping', id: this.#id() })));
  }

  /** Chunks handed to each worker so far (a replaced worker starts again from 0). */
  get chunksPerWorker(): number[] {
    return this.#slots.map((slot) => slot.chunks);
  }

  /**
   * Stops worker `index` as a crash would (its queued chunks fail); the pool starts a fresh
   * worker in its place and loads every graph into it. For tests and operators' drills.
   */
  async terminateWorker(index: number): Promise<void> {
    await this.#slots[index]?.worker.terminate();
  }

  /** Whether a graph is loaded (or loading) under `key`. */
  has(key: string): boolean {
    return this.#graphs.has(key);
  }

  /**
   * Creates the session of `bytes` under `key` in every worker (once per key; later calls
   * return the same promise). Beyond {@link POOL_GRAPH_LIMIT} keys the oldest is released
   * after the chunks already queued for it.
   *
   * @throws {@link OnnxRuntimeError} (phase `create`) naming `describe` when a worker's onnxruntime rejects the graph
   */
  load(key: string, bytes: Uint8Array, describe: string): Promise<void> {
    const known = this.#graphs.get(key);
    if (known !== undefined) return known.loaded;
    if (this.#graphs.size >= POOL_GRAPH_LIMIT) {
      const oldest = this.#graphs.keys().next().value;
      if (oldest !== undefined) this.#release(oldest);
    }
    const loaded = Promise.all(
      this.#slots.map((slot) => this.#request(slot, { type: 'load', id: this.#id(), key, bytes })),
    ).then((replies) => {
      const failed = replies.find((reply) => reply.type === 'failed');
      if (failed !== undefined && failed.type === 'failed') throw new Error(failed.message);
    });
    const checked = loaded.catch((cause: unknown) => {
      if (this.#graphs.get(key)?.loaded === checked) this.#graphs.delete(key);
      throw new OnnxRuntimeError('create', describe, cause);
    });
    this.#graphs.set(key, { bytes, describe, loaded: checked });
    return checked;
  }

  /** Releases the sessions of `key` in every worker, after the chunks already queued for it. */
  unload(key: string): void {
    if (this.#graphs.has(key) && !this.#closed) this.#release(key);
  }

  #release(key: string): void {
    this.#graphs.delete(key);
    for (const slot of this.#slots) {
      void this.#request(slot, { type: 'release', id: this.#id(), key }).catch(() => undefined);
    }
  }

  /**
   * A free staging area of `slot` big enough for the chunk, grown (and re-attached to the
   * worker) when needed; holds the chunk's spectra unless the block is in shared memory already.
   */
  #stage(
    slot: Slot,
    index: number,
    data: Float32Array | Uint16Array,
    offset: number,
    values: number,
    pixels: number,
  ): ChunkSource {
    const stage = slot.stages[index] as Stage;
    const elementBytes = data.BYTES_PER_ELEMENT;
    const shared = data.buffer instanceof SharedArrayBuffer;
    const inputBytes = shared ? 0 : values * elementBytes;
    if (stage.input.byteLength < inputBytes || stage.scores.byteLength < pixels * 4) {
      stage.input = new SharedArrayBuffer(Math.max(stage.input.byteLength, inputBytes));
      stage.scores = new SharedArrayBuffer(Math.max(stage.scores.byteLength, pixels * 4));
      void this.#request(slot, {
        type: 'attach',
        id: this.#id(),
        stage: index,
        input: stage.input,
        scores: stage.scores,
      }).catch(() => undefined);
    }
    if (data.buffer instanceof SharedArrayBuffer) {
      return { kind: 'shared', shared: data.buffer, byteOffset: data.byteOffset + offset * elementBytes };
    }
    const view =
      elementBytes === 2 ? new Uint16Array(stage.input, 0, values) : new Float32Array(stage.input, 0, values);
    view.set(data.subarray(offset, offset + values));
    return { kind: 'staged' };
  }

  #wake(): void {
    for (const waiting of this.#waiting.splice(0)) waiting();
  }

  /** The least busy worker with a free staging area, waiting for one to free up when all are full. */
  async #freeSlot(): Promise<Slot> {
    const queued = (slot: Slot): number => slot.stages.filter((stage) => stage.busy).length;
    for (;;) {
      let best: Slot | undefined;
      for (const slot of this.#slots) {
        if (queued(slot) < QUEUED_PER_WORKER && (best === undefined || queued(slot) < queued(best)))
          best = slot;
      }
      if (best !== undefined) return best;
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    }
  }

  /**
   * Scores a block in chunks on every worker, cut by {@link chunkPlan} (or {@link gridPlan}): each chunk's spectra go
   * to a free staging area of the least busy worker (or are read in place from shared memory),
   * its scores land in the block's score array.
   *
   * @throws {@link OnnxRuntimeError} (phase `run`) naming the graph when a chunk fails or its worker dies,
   *   or when the pool is closed or `key` was never loaded
   */
  runChunks(request: PoolChunkRequest): Promise<ChunkRunResult> {
    const run = this.#runChunks(request);
    this.#active.add(run);
    void run.catch(() => undefined).finally(() => this.#active.delete(run));
    return run;
  }

  async #runChunks(request: PoolChunkRequest): Promise<ChunkRunResult> {
    const graph = this.#graphs.get(request.key);
    if (graph === undefined || this.#closed) {
      throw new OnnxRuntimeError(
        'run',
        request.key,
        this.#closed ? 'the worker pool is closed' : 'graph not loaded',
      );
    }
    // Most recently used last: the pool releases from the front.
    this.#graphs.delete(request.key);
    this.#graphs.set(request.key, graph);
    await graph.loaded;
    const { data, pixels, bands } = request;
    const plan =
      request.grid === true
        ? gridPlan(pixels, request.chunkPixels)
        : chunkPlan(pixels, request.chunkPixels, this.size);
    const chunks = plan.length;
    const scores = new Float32Array(pixels);
    const chunkOutputs: Float32Array[][] = new Array(chunks);
    const runs: Promise<void>[] = [];
    let failure: unknown;
    for (let c = 0; c < chunks && failure === undefined; c++) {
      const slot = await this.#freeSlot();
      if (failure !== undefined) break;
      const { start, pixels: n } = plan[c] as ChunkSpan;
      const index = slot.stages.findIndex((stage) => !stage.busy);
      const stage = slot.stages[index] as Stage;
      const source = this.#stage(slot, index, data, start * bands, n * bands, n);
      stage.busy = true;
      slot.chunks++;
      const message: RunMessage = {
        type: 'run',
        id: this.#id(),
        key: request.key,
        stage: index,
        source,
        inputType: request.inputType,
        pixels: n,
        bands,
        inputName: request.inputName,
        scoresName: request.scoresName,
        feeds: request.feeds,
        outputs: request.outputs,
        ...(request.prep === undefined ? {} : { prep: request.prep }),
      };
      const run = this.#request(slot, message).then(
        (reply) => {
          if (reply.type === 'failed') failure ??= new Error(reply.message);
          else {
            scores.set(new Float32Array(stage.scores, 0, n), start);
            chunkOutputs[c] = [...(reply.outputs ?? [])];
          }
          stage.busy = false;
          this.#wake();
        },
        (error: unknown) => {
          stage.busy = false;
          failure ??= error;
          this.#wake();
        },
      );
      runs.push(run);
    }
    await Promise.all(runs);
    if (failure !== undefined) throw new OnnxRuntimeError('run', graph.describe, failure);
    return { scores, chunkOutputs };
  }

  /**
   * Refuses new blocks, lets the blocks in flight finish, then releases every session and
   * stops the workers. Never rejects.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.allSettled([...this.#active]);
    const keys = [...this.#graphs.keys()];
    this.#graphs.clear();
    await Promise.all(
      this.#slots.map((slot) =>
        Promise.allSettled(keys.map((key) => this.#request(slot, { type: 'release', id: this.#id(), key }))),
      ),
    );
    await Promise.all(this.#slots.map((slot) => slot.worker.terminate().catch(() => 0)));
  }
}
