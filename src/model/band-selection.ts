/** A band-pass range in nanometres: keep channels with `minNm <= λ <= maxNm` (both inclusive). */
export interface BandpassRange {
  /** Lowest wavelength kept (nm, inclusive). */
  readonly minNm: number;
  /** Highest wavelength kept (nm, inclusive); no upper bound when absent. */
  readonly maxNm?: number;
}

/**
 * Indices of the channels inside `range`, in their original order (docs/maths.md §3.1). May be empty;
 * the operator turns that into an error.
 *
 * @example
 * ```ts
 * selectBands(Float32Array.of(650, 700, 750), { minNm: 700 }); // Int32Array [1, 2]
 * ```
 */
export function selectBands(wavelengths: Float32Array, range: BandpassRange): Int32Array {
  // Compare in float32, the precision of the wavelengths: a bound of 700.1 keeps a band stored as fround(700.1).
  const min = Math.fround(range.minNm);
  const max = Math.fround(range.maxNm ?? Number.POSITIVE_INFINITY);
  const kept: number[] = [];
  for (let i = 0; i < wavelengths.length; i++) {
    const w = wavelengths[i]!;
    if (w >= min && w <= max) kept.push(i);
  }
  return Int32Array.from(kept);
}
