import type { ChunkRunner, ChunkRunRequest, ChunkRunResult, RunnableGraph } from '../chunk-runner.js';
import { OnnxRuntimeError } from '../onnx-errors.js';
import { OrtWorkerPool, type OrtWorkerPoolOptions } from './ort-worker-pool.js';

let runners = 0;

/**
 * A {@link ChunkRunner} on the process-wide {@link OrtWorkerPool.shared} pool: each graph is
 * built once and loaded into every worker under a key of this runner's own, a block's chunks
 * run on all workers at once while the event loop stays free, and `close` unloads this
 * runner's graphs (the workers stay for the next scorer).
 *
 * @example
 * ```ts
 * const runner = new PoolChunkRunner({ workers: 2 });
 * const { scores, chunkOutputs } = await runner.run(key, () => buildDeepSvddGraph(params, opts), request);
 * await runner.close();
 * ```
 */
export class PoolChunkRunner implements ChunkRunner {
  readonly describe: string;
  readonly #workers: number;
  readonly #prefix = `runner${++runners}:`;
  readonly #keys = new Set<string>();
  #closed = false;

  /** @throws {@link OnnxRuntimeError} (phase `create`) for a worker count below 1 (no worker starts here) */
  constructor(options: OrtWorkerPoolOptions = {}) {
    this.#workers = OrtWorkerPool.checkWorkers(options.workers);
    this.describe = `${this.#workers} worker thread(s), 1 intra-op thread each`;
  }

  async run(key: string, build: () => RunnableGraph, request: ChunkRunRequest): Promise<ChunkRunResult> {
    if (this.#closed) throw new OnnxRuntimeError('run', key, 'the scorer is closed');
    const pool = OrtWorkerPool.shared(this.#workers);
    const poolKey = this.#prefix + key;
    if (!pool.has(poolKey)) {
      const graph = build();
      this.#keys.add(poolKey);
      void pool.load(poolKey, graph.bytes, graph.describe).catch(() => undefined);
    }
    return pool.runChunks({ ...request, key: poolKey });
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#keys.size === 0) return;
    const pool = OrtWorkerPool.shared(this.#workers);
    for (const key of this.#keys) pool.unload(key);
    this.#keys.clear();
  }
}
