import { defer, finalize, map, type OperatorFunction } from 'rxjs';
import { disposeTensorFrame, type TensorFrame } from '../../src/core/tensor-frame.js';

/** One subscription's worth of a tensor stage: the per-frame step and what to release at the end. */
export interface TensorStage<I extends TensorFrame, O> {
  /**
   * Turns one frame into the output. Must not dispose `frame.pixels` (the core does, unless the
   * output carries the same tensor on, which hands ownership over).
   */
  step(frame: I): O;
  /** Releases what the stage holds (parameter tensors, caches); runs once, on finalize. */
  release?(): void;
}

function carriesTensor(out: unknown, pixels: TensorFrame['pixels']): boolean {
  return typeof out === 'object' && out !== null && 'pixels' in out && out.pixels === pixels;
}

/**
 * The shared core of every tensor operator: builds the stage's state per subscription (so one
 * operator instance can serve several subscriptions), applies the ownership rule of
 * {@link TensorFrame} (the consumed frame's tensor is disposed after the step, or when the
 * step throws), and releases the state on complete, error or unsubscribe.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { type TensorFrame, withPixels } from '../../src/core/tensor-frame.js';
 * const negate = () =>
 *   tensorStage<TensorFrame, TensorFrame>(() => ({
 *     step: (frame) => withPixels(frame, tf.neg(frame.pixels)),
 *   }));
 * ```
 */
export function tensorStage<I extends TensorFrame, O>(
  setup: () => TensorStage<I, O>,
): OperatorFunction<I, O> {
  return (source) =>
    defer(() => {
      const stage = setup();
      return source.pipe(
        map((frame) => {
          let out: O;
          try {
            out = stage.step(frame);
          } catch (error) {
            disposeTensorFrame(frame);
            throw error;
          }
          if (!carriesTensor(out, frame.pixels)) disposeTensorFrame(frame);
          return out;
        }),
        finalize(() => stage.release?.()),
      );
    });
}
