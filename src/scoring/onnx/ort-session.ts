import { InferenceSession } from 'onnxruntime-node';
import { OnnxRuntimeError } from './onnx-errors.js';

/** Options of {@link createOrtSession}. */
export interface OrtSessionOptions {
  /** Intra-op threads (default 2: both cores of the reference machine; 1 leaves a core to the rest). */
  readonly threads?: number;
  /**
   * Whether idle intra-op threads spin waiting for work (default true, onnxruntime's default):
   * fastest on a machine of its own; `false` stops them burning a core that other processes need.
   */
  readonly spinning?: boolean;
  /** Write an onnxruntime profile (JSON, time per node) with this file prefix; see `endProfiling`. */
  readonly profilePrefix?: string;
  /** Name of the graph for error messages (default `onnx graph`). */
  readonly describe?: string;
}

/** Default intra-op threads of a scoring session. */
export const DEFAULT_ORT_THREADS = 2;

/** The session options every cubestream session uses (docs/architecture.md §6 measured these). */
export function ortSessionOptions(options: OrtSessionOptions = {}): InferenceSession.SessionOptions {
  const threads = options.threads ?? DEFAULT_ORT_THREADS;
  if (!Number.isSafeInteger(threads) || threads < 1) {
    throw new OnnxRuntimeError(
      'create',
      options.describe ?? 'onnx graph',
      `threads = ${threads} must be >= 1`,
    );
  }
  return {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
    ...(options.spinning === false ? { extra: { session: { intra_op: { allow_spinning: '0' } } } } : {}),
    ...(options.profilePrefix === undefined
      ? {}
      : { enableProfiling: true, profileFilePrefix: options.profilePrefix }),
  };
}

/**
 * Creates an onnxruntime-node CPU session from serialised model bytes with cubestream's
 * settings: `threads` intra-op threads, one inter-op thread, all graph optimisations,
 * sequential execution.
 *
 * @throws {@link OnnxRuntimeError} (phase `create`) when onnxruntime rejects the model or options
 * @example
 * ```ts
 * import { rxFromBundle } from 'cubestream';
 * import { buildRxGraph } from './rx-graph.js';
 * const graph = buildRxGraph(rxFromBundle(bundle).rx);
 * const session = await createOrtSession(graph.bytes, { threads: 2, describe: graph.describe });
 * ```
 */
export async function createOrtSession(
  bytes: Uint8Array,
  options: OrtSessionOptions = {},
): Promise<InferenceSession> {
  const sessionOptions = ortSessionOptions(options);
  try {
    return await InferenceSession.create(bytes, sessionOptions);
  } catch (cause) {
    throw new OnnxRuntimeError('create', options.describe ?? 'onnx graph', cause);
  }
}
