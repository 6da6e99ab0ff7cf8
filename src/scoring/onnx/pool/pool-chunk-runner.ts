import type { ChunkRunner, ChunkRunRequest, ChunkRunResult, RunnableGraph } from '../chunk-runner.js';
import { OnnxRuntimeError } from '../onnx-errors.js';
import { OrtWorkerPool, type OrtWorkerPoolOptions } from './ort-worker-pool.js';

/**
 * A {@link ChunkRunner} on a worker pool of its own ({@link OrtWorkerPool}), started on the
 * first block or by {@link PoolChunkRunner.ready}: each graph is built once and loaded into
 * every worker, a block's chunks run on all workers at once while the event loop stays free,
 * and `close` stops the workers after the blocks in flight. Pipelines that should share
 * workers share the runner (or the scorer that owns it).
 *
 * @example
 * ```ts
 * import { rxFromBundle } from 'cubestream';
 * import { buildRxGraph } from '../rx-graph.js';
 * const runner = new PoolChunkRunner({ workers: 2 });
 * await runner.ready(); // optional: workers up before the first block
 * const { scores } = await runner.run('rx|float32', () => buildRxGraph(rxFromBundle(bundle).rx), {
 *   data: frame.data, inputType: 'float32', pixels: frame.height * frame.width, bands: frame.bands,
 *   chunkPixels: 8192, inputName: 'x', scoresName: 'scores', feeds: {}, outputs: [],
 * });
 * await runner.close();
 * ```
 */
export class PoolChunkRunner implements ChunkRunner {
  readonly describe: string;
  readonly #workers: number;
  #pool: OrtWorkerPool | undefined;
  #closed = false;

  /** @throws {@link OnnxRuntimeError} (phase `create`) for a worker count below 1 (no worker starts here) */
  constructor(options: OrtWorkerPoolOptions = {}) {
    this.#workers = OrtWorkerPool.checkWorkers(options.workers);
    this.describe = `${this.#workers} worker thread(s), 1 intra-op thread each`;
  }

  /** The runner's pool, started on first use. */
  #open(key: string): OrtWorkerPool {
    if (this.#closed) throw new OnnxRuntimeError('run', key, 'the scorer is closed');
    this.#pool ??= new OrtWorkerPool({ workers: this.#workers });
    return this.#pool;
  }

  async run(key: string, build: () => RunnableGraph, request: ChunkRunRequest): Promise<ChunkRunResult> {
    const pool = this.#open(key);
    if (!pool.has(key)) {
      const graph = build();
      void pool.load(key, graph.bytes, graph.describe).catch(() => undefined);
    }
    return pool.runChunks({ ...request, key });
  }

  /** Starts the workers and waits until each has loaded onnxruntime. */
  async ready(): Promise<void> {
    await this.#open('worker pool').ready();
  }

  async close(): Promise<void> {
    this.#closed = true;
    const pool = this.#pool;
    this.#pool = undefined;
    await pool?.close();
  }
}
