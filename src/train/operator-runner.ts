import { type OperatorFunction, Subject } from 'rxjs';
import { OptionError } from '../core/options.js';

/** A synchronous operator pipeline fed one value at a time (see {@link runOperator}). */
export interface OperatorRunner<I, O> {
  /**
   * Pushes one input through and returns what came out for it (usually exactly one value).
   * Rethrows the pipeline's error; the runner is closed afterwards.
   */
  push(input: I): O[];
  /** Completes the pipeline (its stages release their tensors). Safe to call twice. */
  close(): void;
}

/**
 * Subscribes once to an operator pipeline and feeds it value by value: the stages build their
 * state (weight tensors, caches) once, and one frame read from disk can go through several
 * pipelines in turn. Only for synchronous stages (map-like RxJS operators, as every tensor stage is).
 *
 * @example
 * ```ts
 * import { streamDatasetFrames } from './dataset-frames.js';
 * import { anomalyMask, EvaluationAccumulator } from './metrics.js';
 * import { trainingStages } from './operator-stages.js';
 * const evaluation = new EvaluationAccumulator();
 * const scorer = runOperator(trainingStages.deepSvdd(params));
 * try {
 *   for await (const frame of streamDatasetFrames(dataset.splits.test)) {
 *     const [scored] = scorer.push(frame);
 *     if (scored !== undefined && frame.labels) evaluation.add(scored.scores, anomalyMask(frame.labels, [3]));
 *   }
 * } finally {
 *   scorer.close();
 * }
 * ```
 */
export function runOperator<I, O>(operator: OperatorFunction<I, O>): OperatorRunner<I, O> {
  const input = new Subject<I>();
  let outputs: O[] = [];
  let failure: { error: unknown } | undefined;
  let closed = false;
  const subscription = input.pipe(operator).subscribe({
    next: (value) => {
      outputs.push(value);
    },
    error: (error: unknown) => {
      failure = { error };
    },
  });
  // Set by the error callback during next(); read through a function so the type is not narrowed.
  const failureOf = (): { error: unknown } | undefined => failure;
  const close = (): void => {
    if (closed) return;
    closed = true;
    input.complete();
    subscription.unsubscribe();
  };
  return {
    push(value) {
      if (failure !== undefined) throw failure.error;
      if (closed) throw new OptionError('training', 'runOperator', 'closed', 'push after close');
      outputs = [];
      input.next(value);
      const failed = failureOf();
      if (failed !== undefined) {
        close();
        throw failed.error;
      }
      return outputs;
    },
    close,
  };
}

/**
 * Pushes one input through a fresh run of `operator` and returns its single output; the run is
 * closed afterwards (its stages release what they hold).
 *
 * @throws {@link OptionError} naming `what` when the operator emits nothing for the input
 * @example
 * ```ts
 * import { trainingStages } from './operator-stages.js';
 * const { scores } = runOnce(trainingStages.deepSvdd(params), frame, 'scorer');
 * ```
 */
export function runOnce<I, O>(operator: OperatorFunction<I, O>, input: I, what: string): O {
  const run = runOperator(operator);
  try {
    const [output] = run.push(input);
    if (output === undefined) throw new OptionError('training', what, 0, 'emitted no frame');
    return output;
  } finally {
    run.close();
  }
}
