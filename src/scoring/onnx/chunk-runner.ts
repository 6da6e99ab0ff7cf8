import type { PoolFeed, PoolInputType } from './pool/pool-messages.js';

/** A graph to run: serialised ONNX bytes and a short name for errors and logs. */
export interface RunnableGraph {
  readonly bytes: Uint8Array;
  readonly describe: string;
}

/**
 * Band selection and unit norm done on each chunk before onnxruntime, by the WASM SIMD
 * `BandPrepKernel`, for a graph built with `prepared: true`: the graph then gets float32
 * `[n, count]` (bands `lo .. lo+count-1`, unit-normed when `unitNorm`).
 */
export interface ChunkPrep {
  /** First kept band. */
  readonly lo: number;
  /** Kept bands (contiguous). */
  readonly count: number;
  /** Centre each pixel's kept values and divide by max(L2 norm, eps). */
  readonly unitNorm: boolean;
  readonly eps: number;
}

/** One block to score in chunks: spectra in, one score per pixel and small per-chunk outputs out. */
export interface ChunkRunRequest {
  /** `[pixels, bands]` spectra, pixel-major (never changed). */
  readonly data: Float32Array | Uint16Array;
  readonly inputType: PoolInputType;
  readonly pixels: number;
  readonly bands: number;
  /** Largest chunk (pixels per onnxruntime run). */
  readonly chunkPixels: number;
  /** Name of the spectra input and of the `[N]` float32 scores output. */
  readonly inputName: string;
  readonly scoresName: string;
  /** Small float32 inputs every chunk gets (the centre, τ). */
  readonly feeds: Readonly<Record<string, PoolFeed>>;
  /** Further small float32 outputs to collect per chunk (sums, counts). */
  readonly outputs: readonly string[];
  /** Prepare each chunk with the WASM kernel before the graph (which must be built `prepared`). */
  readonly prep?: ChunkPrep;
  /**
   * Cut the block into chunks of exactly `chunkPixels` from its first pixel (the last one
   * shorter), as the in-thread runner always does, instead of the pool's guided plan. Chunk
   * outputs then depend only on the pixels, so a block scored in several runs that start on
   * the grid gives the same chunks as scored in one.
   */
  readonly grid?: boolean;
}

/** Scores of a block, and each chunk's further outputs in chunk (pixel) order. */
export interface ChunkRunResult {
  readonly scores: Float32Array;
  /** `chunkOutputs[chunk][output]`, outputs in request order. */
  readonly chunkOutputs: readonly (readonly Float32Array[])[];
}

/**
 * Runs fused scoring graphs over blocks in cache-sized chunks: in this thread
 * (`SessionChunkRunner`, one session with intra-op threads) or on worker threads
 * (`PoolChunkRunner`, chunks of one block on every worker at once). Graphs are built on first
 * use of their key and kept until {@link ChunkRunner.close}.
 */
export interface ChunkRunner {
  /** Where chunks run, for logs and the bench (`in-process, 2 threads`, `2 workers`). */
  readonly describe: string;
  /**
   * Scores one block with the graph under `key`, building it with `build` on first use.
   *
   * @throws {@link OnnxRuntimeError} (`create` or `run`) naming the graph
   */
  run(key: string, build: () => RunnableGraph, request: ChunkRunRequest): Promise<ChunkRunResult>;
  /**
   * Starts what the first block would otherwise wait for: the worker threads, each with
   * onnxruntime loaded (in this thread: nothing to start). Graphs still load on first use.
   */
  ready(): Promise<void>;
  /** Releases every session (after the runs in flight) and stops any workers. Never rejects. */
  close(): Promise<void>;
}
