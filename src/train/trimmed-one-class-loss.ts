import * as tf from '@tensorflow/tfjs';
import { OptionError } from '../core/options.js';

/** Default share of each batch's highest scores left out of the trimmed one-class loss. */
export const DEFAULT_LOSS_TRIM = 0.02;

/**
 * Contamination-robust one-class Deep SVDD loss (Ruff et al. 2018; the scene default's loss): the mean of the
 * squared distances of a batch after dropping its `trim` share of highest ones, so pixels that
 * look anomalous (the scene-fitting protocol trains on them) do not pull the sphere towards
 * themselves. The gradient flows only into the kept scores (weight 1 / kept each); which scores
 * are kept is decided in the forward pass and carries no gradient.
 *
 * @param scores - squared distances `[N]`, N > 0
 * @param trim - share in [0, 1) dropped (default 0.02); at least one score is always kept
 * @throws {@link OptionError} for `trim` outside [0, 1) or an empty batch
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * const loss = trimmedOneClassLoss(tf.tensor1d([1, 2, 3, 100]), 0.25); // mean(1, 2, 3) = 2
 * ```
 */
export function trimmedOneClassLoss(scores: tf.Tensor1D, trim: number = DEFAULT_LOSS_TRIM): tf.Scalar {
  if (!(trim >= 0 && trim < 1)) throw new OptionError('training', 'trainer.trim', trim, 'must be in [0, 1)');
  const n = scores.shape[0];
  if (n === 0) throw new OptionError('training', 'scores', '[]', 'the batch is empty');
  const keep = Math.max(1, n - Math.floor(trim * n));
  const loss = tf.customGrad((...args) => {
    const x = args[0] as tf.Tensor1D;
    const save = args[1] as tf.GradSaveFunc;
    // The `keep` smallest scores: x <= the keep-th smallest (ties may keep a few more).
    const threshold = tf.max(tf.topk(tf.neg(x), keep).values.neg());
    const mask = tf.cast(tf.lessEqual(x, threshold), 'float32');
    const count = tf.sum(mask);
    save([mask, count]);
    return {
      value: tf.div(tf.sum(tf.mul(x, mask)), count) as tf.Scalar,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [m, c] = saved as [tf.Tensor, tf.Tensor];
        return [tf.div(tf.mul(dy, m), c)];
      },
    };
  });
  return tf.tidy(() => loss(scores) as tf.Scalar);
}
