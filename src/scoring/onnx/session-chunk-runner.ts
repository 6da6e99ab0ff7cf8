import { type InferenceSession, Tensor } from 'onnxruntime-node';
import type { ChunkRunner, ChunkRunRequest, ChunkRunResult, RunnableGraph } from './chunk-runner.js';
import { BandPrepKernel } from './kernels/band-prep.js';
import { OnnxRuntimeError } from './onnx-errors.js';
import { createOrtSession } from './ort-session.js';
import { SessionCache } from './session-cache.js';

/**
 * Intra-op threads of a scorer's in-thread session: 1, which on a 2-core box shared with the rest
 * of the pipeline measured faster than 2 (the pipeline's `scorerThreads` defaults to it).
 */
export const DEFAULT_SCORER_THREADS = 1;

/** Options of {@link SessionChunkRunner}. */
export interface SessionChunkRunnerOptions {
  /** onnxruntime intra-op threads (default {@link DEFAULT_SCORER_THREADS}). */
  readonly threads?: number;
  /** Let idle intra-op threads spin (default true). */
  readonly spinning?: boolean;
}

/**
 * A {@link ChunkRunner} in this thread: one onnxruntime-node session per graph key, a block's
 * chunks run one after another (views of the block, scores written in place through
 * pre-allocated outputs). onnxruntime-node runs a session synchronously on the calling thread,
 * so the event loop waits for each chunk.
 *
 * @example
 * ```ts
 * import { rxFromBundle } from 'cubestream';
 * import { buildRxGraph } from './rx-graph.js';
 * const runner = new SessionChunkRunner({ threads: 1 });
 * const { scores } = await runner.run('rx|float32', () => buildRxGraph(rxFromBundle(bundle).rx), {
 *   data: frame.data, inputType: 'float32', pixels: frame.height * frame.width, bands: frame.bands,
 *   chunkPixels: 8192, inputName: 'x', scoresName: 'scores', feeds: {}, outputs: [],
 * });
 * await runner.close();
 * ```
 */
export class SessionChunkRunner implements ChunkRunner {
  readonly describe: string;
  readonly #sessions = new SessionCache<string>();
  readonly #options: SessionChunkRunnerOptions;
  #kernel: BandPrepKernel | undefined;

  constructor(options: SessionChunkRunnerOptions = {}) {
    const threads = options.threads ?? DEFAULT_SCORER_THREADS;
    this.#options = { ...options, threads };
    this.describe = `in-process, ${threads} intra-op thread(s)`;
  }

  async run(key: string, build: () => RunnableGraph, request: ChunkRunRequest): Promise<ChunkRunResult> {
    const { session, meta: describe } = await this.#sessions.get(key, async () => {
      const graph = build();
      const created = await createOrtSession(graph.bytes, { describe: graph.describe, ...this.#options });
      return { session: created, meta: graph.describe };
    });
    const { data, pixels, bands, inputType } = request;
    const chunk = Math.max(1, Math.floor(request.chunkPixels));
    const scores = new Float32Array(pixels);
    const feeds: Record<string, Tensor> = {};
    for (const [name, feed] of Object.entries(request.feeds)) {
      feeds[name] = new Tensor('float32', feed.data, [...feed.dims]);
    }
    const chunkOutputs: Float32Array[][] = [];
    for (let start = 0; start < pixels; start += chunk) {
      const n = Math.min(chunk, pixels - start);
      const spectra = data.subarray(start * bands, (start + n) * bands);
      if (request.prep === undefined) {
        feeds[request.inputName] = new Tensor(inputType, spectra, [n, bands]);
      } else {
        this.#kernel ??= BandPrepKernel.create();
        const prepared = this.#kernel.prepare(spectra, { pixels: n, bands, ...request.prep });
        feeds[request.inputName] = new Tensor('float32', prepared, [n, request.prep.count]);
      }
      const fetches: Record<string, Tensor | null> = {
        [request.scoresName]: new Tensor('float32', scores.subarray(start, start + n), [n]),
      };
      for (const name of request.outputs) fetches[name] = null;
      let out: InferenceSession.ReturnType;
      try {
        out = await this.#sessions.track(session.run(feeds, fetches));
      } catch (cause) {
        throw new OnnxRuntimeError('run', describe, cause);
      }
      chunkOutputs.push(
        request.outputs.map((name) => {
          const values = out[name]?.data;
          if (!(values instanceof Float32Array)) {
            throw new OnnxRuntimeError('run', describe, `output ${name} is missing or not float32`);
          }
          return values;
        }),
      );
    }
    return { scores, chunkOutputs };
  }

  /** Nothing to start: sessions are created on first use of their graph. */
  ready(): Promise<void> {
    return Promise.resolve();
  }

  close(): Promise<void> {
    return this.#sessions.releaseAll();
  }
}
