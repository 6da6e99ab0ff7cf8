/**
 * The scorer of a model bundle as one object: the engine that scores its pixels, chosen once
 * (`onnx`, the fused onnxruntime graph, or `tfjs`), and, for `onnx`, the worker pool or
 * in-thread session it owns. A pipeline scores on it (`deepSvddPipeline`'s `scoreWith`); its
 * owner warms it before the first block and closes it at the end. Nothing process-wide: two
 * pipelines share workers by sharing the scorer.
 */
import type { ModelBundle } from '../model/bundle.js';
import { deepSvddFromBundle } from '../model/detector-bundle.js';
import { ModelParamsError } from '../model/model-errors.js';
import { currentEngine, type EngineBackend } from './engine.js';
import type { ChunkRunner } from './onnx/chunk-runner.js';
import { checkChunkRunnerOptions, createChunkRunner } from './onnx/create-chunk-runner.js';
import { fusedUnsupportedReason } from './onnx/fused-support.js';

/** Which engine scores pixels, as asked for: `auto` picks (see {@link chooseScorer}). */
export type ScorerEngine = 'auto' | 'onnx' | 'tfjs';

/** The engine that scores a bundle, and why it was chosen. */
export interface ScorerChoice {
  readonly engine: 'onnx' | 'tfjs';
  readonly reason: string;
}

/**
 * The engine for this bundle: `tfjs` when asked for; `onnx` when asked for (an error when the
 * bundle's stages are not all in the fused graph); `auto`: onnx when the fused graph supports
 * the bundle, unless tfjs runs on native TensorFlow (a GPU host), else tfjs.
 *
 * @param tfjsBackend - the tfjs backend in use (default: the one `initEngine` chose, if any)
 * @throws {@link ModelParamsError} (`scorer`) for `onnx` on a bundle the fused graph cannot run
 * @example
 * ```ts
 * chooseScorer(bundle); // { engine: 'onnx', reason: 'fused graph supports the bundle' }
 * ```
 */
export function chooseScorer(
  bundle: ModelBundle,
  requested: ScorerEngine = 'auto',
  tfjsBackend: EngineBackend | undefined = currentEngine()?.backend,
): ScorerChoice {
  if (requested === 'tfjs') return { engine: 'tfjs', reason: 'requested' };
  const unsupported =
    bundle.manifest.detector === 'deep-svdd'
      ? fusedUnsupportedReason(deepSvddFromBundle(bundle))
      : bundle.manifest.detector === 'rx'
        ? undefined
        : `detector ${bundle.manifest.detector}`;
  if (unsupported !== undefined) {
    if (requested === 'onnx')
      throw new ModelParamsError('scorer', `onnx cannot run this bundle: ${unsupported}`);
    return { engine: 'tfjs', reason: unsupported };
  }
  if (requested === 'auto' && tfjsBackend === 'tensorflow')
    return { engine: 'tfjs', reason: 'native TensorFlow backend' };
  return { engine: 'onnx', reason: requested === 'onnx' ? 'requested' : 'fused graph supports the bundle' };
}

/** Options of {@link createScorer}. */
export interface CreateScorerOptions {
  /** Engine to use (default `auto`). */
  readonly engine?: ScorerEngine;
  /** Worker threads of the `onnx` scorer (default: one per core, at most 2; 0: in this thread). */
  readonly workers?: number;
  /** onnxruntime intra-op threads of the in-thread `onnx` scorer (`workers: 0`). */
  readonly threads?: number;
  /** The tfjs backend in use, for `auto` (default: the one `initEngine` chose, if any). */
  readonly tfjsBackend?: EngineBackend;
}

/** A bundle's scorer: its engine, and what it owns (see {@link createScorer}). */
export interface Scorer extends ScorerChoice {
  /** Worker threads scoring blocks (0: in this thread, or the `tfjs` engine). */
  readonly workers: number;
  /**
   * Where the `onnx` engine runs its graphs, owned by this scorer (the pipeline's scoring
   * operator uses it and leaves it open); undefined for `tfjs`.
   */
  readonly runner: ChunkRunner | undefined;
  /**
   * Starts the worker threads, each with onnxruntime loaded, so that the first block does not
   * wait for them (nothing to start in this thread or on tfjs).
   *
   * @throws {@link OnnxRuntimeError} when a worker cannot start, or after {@link Scorer.close}
   */
  warm(): Promise<void>;
  /** Releases every session and stops the workers, after the blocks in flight. Never rejects. */
  close(): Promise<void>;
}

/**
 * The scorer of `bundle`: the engine is chosen here, once ({@link chooseScorer}), and the
 * `onnx` engine gets a runner of its own (a worker pool, or one session in this thread with
 * `workers: 0`), started by {@link Scorer.warm} or on the first block, stopped by
 * {@link Scorer.close}.
 *
 * @throws {@link ModelParamsError} (`scorer`) for `onnx` on a bundle the fused graph cannot run
 * @throws {@link OnnxRuntimeError} (phase `create`) for a negative or fractional worker count
 * @example
 * ```ts
 * import { deepSvddPipeline } from 'cubestream/operators';
 * const scorer = createScorer(bundle, { workers: 2 });
 * await scorer.warm(); // before the camera opens
 * camera.frames.pipe(deepSvddPipeline(bundle, { scoreWith: scorer })).subscribe((f) => sink.publish(f.decision));
 * // ... at shutdown
 * await scorer.close();
 * ```
 */
export function createScorer(bundle: ModelBundle, options: CreateScorerOptions = {}): Scorer {
  const choice = chooseScorer(bundle, options.engine, options.tfjsBackend);
  if (choice.engine === 'tfjs') {
    return {
      ...choice,
      workers: 0,
      runner: undefined,
      warm: async () => undefined,
      close: async () => undefined,
    };
  }
  const where = {
    ...(options.workers === undefined ? {} : { workers: options.workers }),
    ...(options.threads === undefined ? {} : { threads: options.threads }),
    spinning: false,
  };
  const workers = checkChunkRunnerOptions(where);
  const runner = createChunkRunner(where);
  return { ...choice, workers, runner, warm: () => runner.ready(), close: () => runner.close() };
}
