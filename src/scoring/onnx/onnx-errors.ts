import { CubestreamError } from '../../core/errors.js';

/**
 * A graph that cannot be built: a node naming a value no earlier node produced, an initializer
 * whose length does not match its dims, two values with one name. Raised while building, so the
 * message names the node or value at fault instead of an opaque onnxruntime load error.
 *
 * @example
 * ```ts
 * new OnnxGraphError('node Gemm#3', 'input "h2" is not defined').message
 * // "ONNX graph: node Gemm#3: input \"h2\" is not defined"
 * ```
 */
export class OnnxGraphError extends CubestreamError {
  /** Node, value or initializer at fault. */
  readonly where: string;

  constructor(where: string, problem: string) {
    super('onnx_graph', `ONNX graph: ${where}: ${problem}`);
    this.where = where;
  }
}

/** What onnxruntime was doing when it failed. */
export type OnnxRuntimePhase = 'create' | 'run' | 'release';

/**
 * onnxruntime-node failed to create a session from a graph, or to run it; `cause` holds the
 * runtime's error, `model` says which graph (e.g. `deep-svdd 61->27 uint16`).
 *
 * @example
 * ```ts
 * new OnnxRuntimeError('run', 'deep-svdd 61->27 float32', new Error('…')).message
 * // "onnxruntime run failed for deep-svdd 61->27 float32: …"
 * ```
 */
export class OnnxRuntimeError extends CubestreamError {
  /** `create` (session), `run` (inference) or `release`. */
  readonly phase: OnnxRuntimePhase;
  /** Description of the graph involved. */
  readonly model: string;

  constructor(phase: OnnxRuntimePhase, model: string, cause: unknown) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super('onnx_runtime', `onnxruntime ${phase} failed for ${model}: ${reason}`, { cause });
    this.phase = phase;
    this.model = model;
  }
}
