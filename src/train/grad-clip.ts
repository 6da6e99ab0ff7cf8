import * as tf from '@tensorflow/tfjs';
import { OptionError } from '../core/options.js';

/** Default maximum global gradient norm (docs/maths.md §3.7). */
export const DEFAULT_MAX_GRAD_NORM = 1.0;

/** Result of {@link clipGradNorm}: the scaled gradients and the norm before clipping. */
export interface ClippedGradients {
  /** Gradients scaled by min(1, maxNorm / (totalNorm + 1e-6)), same keys as the input. */
  readonly grads: Record<string, tf.Tensor>;
  /** Global L2 norm of all gradients before clipping (a scalar tensor, so no GPU sync here). */
  readonly totalNorm: tf.Scalar;
}

/**
 * Global gradient-norm clipping exactly as `torch.nn.utils.clip_grad_norm_`: the total norm is
 * the L2 norm of the per-tensor L2 norms, and every gradient is multiplied by
 * `clamp(maxNorm / (totalNorm + 1e-6), max = 1)`. Returns new tensors (the caller disposes
 * them, or calls this inside `tf.tidy`) and the total norm before clipping. `null` / missing
 * gradients (frozen parameters) are skipped.
 *
 * @throws {@link OptionError} when maxNorm is not finite and > 0
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * declare const lossFn: () => tf.Scalar; // a batch's loss, computed from model.params
 * const { grads } = tf.variableGrads(lossFn);
 * const { grads: clipped, totalNorm } = clipGradNorm(grads, 1.0);
 * optimizer.applyGradients(clipped);
 * ```
 */
export function clipGradNorm(
  grads: Readonly<Record<string, tf.Tensor | null | undefined>>,
  maxNorm: number = DEFAULT_MAX_GRAD_NORM,
): ClippedGradients {
  if (!(Number.isFinite(maxNorm) && maxNorm > 0)) {
    throw new OptionError('training', 'maxGradNorm', maxNorm, 'must be finite and > 0');
  }
  const present = Object.entries(grads).filter((entry): entry is [string, tf.Tensor] => entry[1] != null);
  if (present.length === 0) return { grads: {}, totalNorm: tf.scalar(0) };
  return tf.tidy(() => {
    const norms = present.map(([, g]) => tf.norm(g));
    const totalNorm = tf.norm(tf.stack(norms)) as tf.Scalar;
    const coefficient = tf.minimum(tf.div(maxNorm, tf.add(totalNorm, 1e-6)), 1);
    const clipped: Record<string, tf.Tensor> = {};
    for (const [name, g] of present) clipped[name] = tf.mul(g, coefficient);
    return { grads: clipped, totalNorm };
  });
}
