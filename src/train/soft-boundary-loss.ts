import * as tf from '@tensorflow/tfjs';
import { OptionError } from '../core/options.js';

/** Sharpness β of the softplus that maps the trained scalar r to the radius R (docs/maths.md §3.7). */
export const SOFTPLUS_BETA = 10;

/** Default ν of the soft-boundary loss: the share of training pixels allowed outside the sphere. */
export const DEFAULT_NU = 0.05;

/** Options of {@link softBoundaryLoss}. */
export interface SoftBoundaryLossOptions {
  /** ν in (0, 1]: weight 1/ν on the mean excess of scores over R² (default 0.05). */
  nu?: number;
  /** β of softplus_β (default 10). */
  beta?: number;
}

/**
 * softplus_β(x) = log(1 + exp(βx)) / β, element-wise, numerically stable for any x (tfjs's
 * softplus kernel switches to x or exp(x) at the extremes) and with the exact gradient
 * sigmoid(βx) everywhere, including x = 0 where r starts.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * softplusBeta(tf.scalar(0)); // log(2) / 10 = 0.0693
 * ```
 */
export function softplusBeta<T extends tf.Tensor>(x: T, beta: number = SOFTPLUS_BETA): T {
  if (!(beta > 0) || !Number.isFinite(beta))
    throw new OptionError('training', 'beta', beta, 'must be finite and > 0');
  return tf.tidy(() => tf.div(tf.softplus(tf.mul(x, beta)), beta) as T);
}

/**
 * R² of the soft boundary from the trained scalar r: R = softplus_β(r). With r = 0 and β = 10,
 * R² = (log 2 / 10)² = 0.0048045.
 */
export function radiusSquared(r: tf.Scalar, beta: number = SOFTPLUS_BETA): tf.Scalar {
  return tf.tidy(() => tf.square(softplusBeta(r, beta)));
}

/**
 * The Deep SVDD soft-boundary loss (docs/maths.md §3.7): `R² + (1/ν)·mean(max(0, s - R²))` with
 * R = softplus_β(r). Pure tfjs ops, so gradients flow to r and, through the scores, to every
 * parameter of the network.
 *
 * @param scores - squared distances s = ||z - c||² of a batch, shape `[N]`
 * @param r - the trained scalar (starts at 0)
 * @throws {@link OptionError} when ν is not in (0, 1] or β is not > 0
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * const scores = tf.tensor1d([0.01, 0.002, 0.3]); // ||z - c||² of a batch
 * const loss = softBoundaryLoss(scores, model.r, { nu: 0.05 });
 * ```
 */
export function softBoundaryLoss(
  scores: tf.Tensor1D,
  r: tf.Scalar,
  options: SoftBoundaryLossOptions = {},
): tf.Scalar {
  const nu = options.nu ?? DEFAULT_NU;
  if (!(nu > 0 && nu <= 1)) throw new OptionError('training', 'nu', nu, 'must be in (0, 1]');
  const beta = options.beta ?? SOFTPLUS_BETA;
  return tf.tidy(() => {
    const r2 = radiusSquared(r, beta);
    const excess = tf.mean(tf.relu(tf.sub(scores, r2)));
    return tf.add(r2, tf.div(excess, nu)) as tf.Scalar;
  });
}
