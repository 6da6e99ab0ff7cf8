import { selectBands } from '../src/model/band-selection.js';
import { type DeepSvddParams, initProjection, meanEmbedding } from '../src/model/deep-svdd-params.js';
import { RunningStats } from '../src/model/running-stats.js';

/** A benchmark model: Deep SVDD parameters fitted on a sample, and a seed threshold. */
export interface SyntheticModel {
  readonly params: DeepSvddParams;
  /** 0.999 quantile of the sample's scores x 1.5: the calibrated τ a bundle would carry. */
  readonly seedThreshold: number;
  /** Unit-normed kept bands of the sample pixels (`[pixels, C]`), e.g. as training batches. */
  readonly unitNormed: Float32Array;
}

/** Options of {@link syntheticModel}. */
export interface SyntheticModelOptions {
  /** Band-pass minimum (nm). */
  readonly minNm: number;
  /** Band-pass maximum (nm; default none). */
  readonly maxNm?: number;
  /** Pixels sampled (every k-th pixel of `data`). */
  readonly samples?: number;
}

/** z = W2·relu(W1·(x-μ)/σ + b1) for `pixels` rows of `x`, in float64 (a few thousand pixels only). */
function embed(params: DeepSvddParams, x: Float32Array, pixels: number): Float32Array {
  const { W1, b1, W2, hidden, rep } = params.project;
  const c = params.zscore.mean.length;
  const out = new Float32Array(pixels * rep);
  const h = new Float64Array(hidden);
  for (let p = 0; p < pixels; p++) {
    for (let j = 0; j < hidden; j++) {
      let s = b1[j]!;
      for (let i = 0; i < c; i++)
        s += W1[j * c + i]! * ((x[p * c + i]! - params.zscore.mean[i]!) / params.zscore.std[i]!);
      h[j] = Math.max(s, 0);
    }
    for (let d = 0; d < rep; d++) {
      let s = 0;
      for (let j = 0; j < hidden; j++) s += W2[d * hidden + j]! * h[j]!;
      out[p * rep + d] = s;
    }
  }
  return out;
}

/**
 * Fits the statistics of a Deep SVDD model (docs/maths.md §3) on a sample of a cube's pixels, with
 * seeded random projection weights: band-pass >= `minNm`, unit norm, z-score over the sample,
 * centre = mean embedding, and a seed τ from the sample's scores. What a trained bundle holds,
 * minus the training, which does not change the cost of scoring.
 *
 * @example
 * ```ts
 * const { params, seedThreshold } = syntheticModel(cube.data, cube.wavelengths, { minNm: 700 });
 * ```
 */
export function syntheticModel(
  data: Uint16Array,
  wavelengths: Float32Array,
  options: SyntheticModelOptions,
): SyntheticModel {
  const bands = wavelengths.length;
  const bandpass = { minNm: options.minNm, ...(options.maxNm === undefined ? {} : { maxNm: options.maxNm }) };
  const kept = selectBands(wavelengths, bandpass);
  const c = kept.length;
  const total = data.length / bands;
  const samples = Math.min(options.samples ?? 8192, total);
  const step = Math.floor(total / samples);
  const unitNormed = new Float32Array(samples * c);
  for (let s = 0; s < samples; s++) {
    const base = s * step * bands;
    let mean = 0;
    for (let i = 0; i < c; i++) mean += data[base + kept[i]!]!;
    mean /= c;
    let norm = 0;
    for (let i = 0; i < c; i++) norm += (data[base + kept[i]!]! - mean) ** 2;
    norm = Math.max(Math.sqrt(norm), 1e-8);
    for (let i = 0; i < c; i++) unitNormed[s * c + i] = (data[base + kept[i]!]! - mean) / norm;
  }
  const zscore = new RunningStats().add(unitNormed, c).toZscore();
  const base: DeepSvddParams = {
    wavelengthsNm: wavelengths,
    bandpass,
    unitNorm: true,
    zscore,
    project: initProjection(c, { seed: 7 }),
    center: new Float32Array(32),
  };
  const z = embed(base, unitNormed, samples);
  const center = meanEmbedding([z], base.project.rep);
  const scores = new Float64Array(samples);
  for (let p = 0; p < samples; p++) {
    for (let d = 0; d < base.project.rep; d++) scores[p]! += (z[p * base.project.rep + d]! - center[d]!) ** 2;
  }
  scores.sort();
  const q = scores[Math.min(samples - 1, Math.floor(0.999 * samples))] ?? 1;
  return { params: { ...base, center }, seedThreshold: 1.5 * q, unitNormed };
}
