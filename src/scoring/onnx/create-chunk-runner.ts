import { defined } from '../../core/defined.js';
import type { ChunkRunner } from './chunk-runner.js';
import { DEFAULT_POOL_WORKERS, OrtWorkerPool } from './pool/ort-worker-pool.js';
import { PoolChunkRunner } from './pool/pool-chunk-runner.js';
import { SessionChunkRunner } from './session-chunk-runner.js';

/** Where a fused scorer runs its graphs. */
export interface ChunkRunnerOptions {
  /**
   * Worker threads scoring a block's chunks at once (default {@link DEFAULT_POOL_WORKERS}: one
   * per core, at most 2); `0` runs in this thread on one session with `threads` intra-op threads.
   */
  readonly workers?: number;
  /** Intra-op threads of the in-thread session (`workers: 0` only; default `DEFAULT_SCORER_THREADS`, 1). */
  readonly threads?: number;
  /** Let idle intra-op threads spin (`workers: 0` only; default true). */
  readonly spinning?: boolean;
  /**
   * A runner the caller owns, used instead of a new one and never closed by the operator: graphs
   * loaded into it stay for the next operator on the same runner (a `Scorer` of `createScorer`
   * hands its runner to the pipeline this way). `workers`, `threads` and `spinning` are then the
   * runner's business.
   */
  readonly runner?: ChunkRunner;
}

/** A scorer's runner, and how to let go of it when the scorer ends. */
export interface HeldChunkRunner {
  readonly runner: ChunkRunner;
  /** Closes a runner the scorer created; leaves a caller's {@link ChunkRunnerOptions.runner} open. */
  release(): void;
}

/**
 * The worker count the options ask for (0: in this thread), checked without starting anything,
 * so that an operator fails when it is built rather than on its first frame.
 *
 * @throws {@link OnnxRuntimeError} (phase `create`) for a negative or fractional worker count
 */
export function checkChunkRunnerOptions(options: ChunkRunnerOptions): number {
  const workers = options.workers ?? DEFAULT_POOL_WORKERS;
  return workers === 0 ? 0 : OrtWorkerPool.checkWorkers(workers);
}

/**
 * The caller's runner ({@link ChunkRunnerOptions.runner}), or a new one from
 * {@link createChunkRunner}, with the matching release.
 *
 * @example
 * ```ts
 * const { runner, release } = holdChunkRunner({ workers: 2 }); // on subscribe
 * // ... runner.run(...) per block; release() on finalize
 * ```
 */
export function holdChunkRunner(options: ChunkRunnerOptions = {}): HeldChunkRunner {
  const given = options.runner;
  if (given !== undefined) return { runner: given, release: () => undefined };
  const runner = createChunkRunner(options);
  return { runner, release: () => void runner.close() };
}

/**
 * The {@link ChunkRunner} the options ask for: a worker pool by default, or one session in
 * this thread with `workers: 0`. Workers start on the first block (or on `ready()`), and the
 * runner's `close` stops them.
 *
 * @throws {@link OnnxRuntimeError} (phase `create`) for a negative or fractional worker count
 * @example
 * ```ts
 * const runner = createChunkRunner({ workers: 2 });
 * ```
 */
export function createChunkRunner(options: ChunkRunnerOptions = {}): ChunkRunner {
  const workers = checkChunkRunnerOptions(options);
  if (workers === 0) {
    return new SessionChunkRunner(defined({ threads: options.threads, spinning: options.spinning }));
  }
  return new PoolChunkRunner({ workers });
}
