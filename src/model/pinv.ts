import { symmetricEigen } from './symmetric-eigen.js';

/**
 * numpy.linalg.pinv's default cutoff: singular values `<= rcond * largest` are treated as zero.
 * (torch.linalg.pinv uses `n * eps` instead, about 1.4e-14 for n = 61; for a covariance with
 * 1e-6 added to its diagonal neither cutoff drops anything unless its condition number passes 1e14.)
 */
export const PINV_DEFAULT_RCOND = 1e-15;

/** Options of {@link pinvSymmetric}. */
export interface PinvOptions {
  /** Relative cutoff on |eigenvalue| (default {@link PINV_DEFAULT_RCOND}, as numpy). */
  rcond?: number;
}

/** A pseudo-inverse with the eigen-spectrum it kept, for whitening. */
export interface SymmetricPinv {
  /** `n x n` row-major Moore-Penrose pseudo-inverse. */
  readonly inverse: Float64Array;
  /** Eigenvalues kept (|λ| > rcond·max|λ|). */
  readonly rank: number;
}

/**
 * Moore-Penrose pseudo-inverse of a symmetric `n x n` matrix (float64) through its
 * eigendecomposition: A⁺ = Σ_j v_j v_jᵀ / λ_j over the eigenvalues with |λ_j| > rcond·max|λ|,
 * which equals numpy.linalg.pinv(A) (SVD singular values of a symmetric matrix are |λ|).
 *
 * @example
 * ```ts
 * const { inverse } = pinvSymmetric(Float64Array.of(2, 0, 0, 0), 2); // [0.5, 0, 0, 0]
 * ```
 */
export function pinvSymmetric(a: Float64Array, n: number, options: PinvOptions = {}): SymmetricPinv {
  const rcond = options.rcond ?? PINV_DEFAULT_RCOND;
  const { values, vectors } = symmetricEigen(a, n);
  let largest = 0;
  for (const value of values) largest = Math.max(largest, Math.abs(value));
  const cutoff = rcond * largest;
  const inverse = new Float64Array(n * n);
  let rank = 0;
  for (let j = 0; j < n; j++) {
    const lambda = values[j]!;
    if (!(Math.abs(lambda) > cutoff)) continue;
    rank++;
    const scale = 1 / lambda;
    for (let r = 0; r < n; r++) {
      const vr = vectors[r * n + j]! * scale;
      if (vr === 0) continue;
      const row = r * n;
      for (let c = 0; c < n; c++) inverse[row + c]! += vr * vectors[c * n + j]!;
    }
  }
  return { inverse, rank };
}

/**
 * A whitening matrix `W` (`rank x n`, row-major) of a symmetric positive semi-definite matrix
 * `P` (e.g. Σ⁺): WᵀW = P, so xᵀPx = ||Wx||². Rows are sqrt(μ_j)·v_jᵀ for the eigenvalues
 * μ_j > rcond·max μ. A sum of squares keeps Mahalanobis distances accurate in float32, where
 * xᵀ(Px) loses digits to cancellation.
 */
export function whiteningOf(
  p: Float64Array,
  n: number,
  options: PinvOptions = {},
): {
  readonly matrix: Float64Array;
  readonly rank: number;
} {
  const rcond = options.rcond ?? PINV_DEFAULT_RCOND;
  const { values, vectors } = symmetricEigen(p, n);
  let largest = 0;
  for (const value of values) largest = Math.max(largest, value);
  const kept: number[] = [];
  for (let j = 0; j < n; j++) if (values[j]! > rcond * largest) kept.push(j);
  const matrix = new Float64Array(kept.length * n);
  kept.forEach((j, row) => {
    const scale = Math.sqrt(values[j]!);
    for (let c = 0; c < n; c++) matrix[row * n + c] = scale * vectors[c * n + j]!;
  });
  return { matrix, rank: kept.length };
}
