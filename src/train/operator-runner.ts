import { type OperatorFunction, Subject } from 'rxjs';
import { TrainOptionError } from './train-errors.js';

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
 * const scorer = runOperator(stages.deepSvdd(params));
 * try {
 *   for await (const frame of frames) evaluation.add(scorer.push(frame)[0].scores, truth(frame));
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
      if (closed) throw new TrainOptionError('runOperator', 'closed', 'push after close');
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
 * @throws {@link TrainOptionError} naming `what` when the operator emits nothing for the input
 * @example
 * ```ts
 * const { scores } = runOnce(scorer, frame, 'scorer');
 * ```
 */
export function runOnce<I, O>(operator: OperatorFunction<I, O>, input: I, what: string): O {
  const run = runOperator(operator);
  try {
    const [output] = run.push(input);
    if (output === undefined) throw new TrainOptionError(what, 0, 'emitted no frame');
    return output;
  } finally {
    run.close();
  }
}
