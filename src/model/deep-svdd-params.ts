import type { WavelengthUnits } from '../core/frame.js';
import type { BandpassRange } from './band-selection.js';
import { selectBands } from './band-selection.js';
import { ModelParamsError } from './model-errors.js';
import type { WhiteningParams } from './robust-whitening.js';
import { RunningStats, type ZscoreStats } from './running-stats.js';
import { seededRandom, uniformArray } from './seeded-random.js';

/** Hidden width of the projection network (docs/maths.md §3.4). */
export const DEFAULT_HIDDEN = 128;
/** Embedding dimension D (docs/maths.md §3.4). */
export const DEFAULT_REP = 32;

/**
 * Weights of the per-pixel projection z = W2 · relu(W1 x + b1), row-major float32, stored
 * (out, in) as PyTorch's `nn.Linear` does.
 */
export interface ProjectionWeights {
  /** `[hidden, C]`. */
  readonly W1: Float32Array;
  /** `[hidden]`. */
  readonly b1: Float32Array;
  /** `[rep, hidden]` (no bias). */
  readonly W2: Float32Array;
  /** Hidden width. */
  readonly hidden: number;
  /** Embedding dimension D. */
  readonly rep: number;
  /**
   * Residual projection z = x + W2 · relu(W1 x + b1) (issue 5; needs D = C). With W2 = 0 it is
   * the identity, so training starts at the statistical solution. Absent: false.
   */
  readonly residual?: boolean;
}

/** Every parameter of the Deep SVDD detector, stage by stage (docs/maths.md §3). */
export interface DeepSvddParams {
  /**
   * Wavelengths of the input frames the model was trained on, before the band-pass: nm, or band
   * indices when `wavelengthUnits` is `index` (sensors that report none, e.g. the ABU scenes).
   */
  readonly wavelengthsNm: Float32Array;
  /** Units of `wavelengthsNm` (default `nm`). */
  readonly wavelengthUnits?: WavelengthUnits;
  /** Band-pass range applied first; absent: every band is kept (required for `index` units). */
  readonly bandpass?: BandpassRange;
  /** Whether the per-pixel unit norm stage runs. */
  readonly unitNorm: boolean;
  /** Per-channel z-score over the kept bands. */
  readonly zscore: ZscoreStats;
  /**
   * Whitening stage after the z-score (issue 5): y = (x - μ)·Mᵀ onto k components; absent in
   * the reference settings. The projection then takes k channels.
   */
  readonly whiten?: WhiteningParams;
  /** Projection network. */
  readonly project: ProjectionWeights;
  /** Hypersphere centre c (length `project.rep`). */
  readonly center: Float32Array;
}

/** Options of {@link initProjection}. */
export interface InitProjectionOptions {
  /** Hidden width (default 128). */
  hidden?: number;
  /** Embedding dimension D (default 32). */
  rep?: number;
  /** PRNG seed (default 0); the same seed gives the same weights. */
  seed?: number;
}

function requirePositiveInt(param: string, value: number): number {
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new ModelParamsError(param, `${value} must be a positive integer`);
  }
  return value;
}

/**
 * Initial projection weights as PyTorch initialises `nn.Linear` for layer 1 (W1, b1 ~
 * U(±1/sqrt(C))) and Xavier-uniform for W2 (U(±sqrt(6 / (hidden + rep)))), from a seeded PRNG.
 *
 * @example
 * ```ts
 * const project = initProjection(27, { seed: 1 }); // W1 [128, 27], b1 [128], W2 [32, 128]
 * ```
 */
export function initProjection(inChannels: number, options: InitProjectionOptions = {}): ProjectionWeights {
  const c = requirePositiveInt('inChannels', inChannels);
  const hidden = requirePositiveInt('hidden', options.hidden ?? DEFAULT_HIDDEN);
  const rep = requirePositiveInt('rep', options.rep ?? DEFAULT_REP);
  const random = seededRandom(options.seed ?? 0);
  const bound1 = 1 / Math.sqrt(c);
  const W1 = uniformArray(hidden * c, bound1, random);
  const b1 = uniformArray(hidden, bound1, random);
  const W2 = uniformArray(rep * hidden, Math.sqrt(6 / (hidden + rep)), random);
  return { W1, b1, W2, hidden, rep };
}

/** Options of {@link initResidualProjection}. */
export interface InitResidualOptions {
  /** Hidden width (default 128). */
  hidden?: number;
  /** PRNG seed (default 0). */
  seed?: number;
}

/**
 * Initial weights of the residual projection z = x + W2 · relu(W1 x + b1) (issue 5): W1 ~
 * U(±1/sqrt(C)), b1 = 0, W2 = 0, so the network starts as the identity (D = C) and the score
 * starts at the statistical (whitened) solution.
 *
 * @example
 * ```ts
 * const project = initResidualProjection(30, { hidden: 64 }); // W1 [64, 30], W2 [30, 64] zeros
 * ```
 */
export function initResidualProjection(
  channels: number,
  options: InitResidualOptions = {},
): ProjectionWeights {
  const c = requirePositiveInt('inChannels', channels);
  const hidden = requirePositiveInt('hidden', options.hidden ?? DEFAULT_HIDDEN);
  const random = seededRandom(options.seed ?? 0);
  const W1 = uniformArray(hidden * c, 1 / Math.sqrt(c), random);
  return {
    W1,
    b1: new Float32Array(hidden),
    W2: new Float32Array(c * hidden),
    hidden,
    rep: c,
    residual: true,
  };
}

/**
 * Shapes of projection weights, checked: `hidden = b1.length`, `C = W1.length / hidden`,
 * `D = W2.length / hidden`.
 *
 * @throws {@link ModelParamsError} naming the weight whose length does not fit
 */
export function projectionShape(weights: Pick<ProjectionWeights, 'W1' | 'b1' | 'W2'>): {
  readonly inChannels: number;
  readonly hidden: number;
  readonly rep: number;
} {
  const hidden = weights.b1.length;
  if (hidden === 0) throw new ModelParamsError('project.b1', 'is empty');
  if (weights.W1.length === 0 || weights.W1.length % hidden !== 0) {
    throw new ModelParamsError(
      'project.W1',
      `${weights.W1.length} values is not [${hidden}, C] (hidden = b1.length)`,
    );
  }
  if (weights.W2.length === 0 || weights.W2.length % hidden !== 0) {
    throw new ModelParamsError(
      'project.W2',
      `${weights.W2.length} values is not [D, ${hidden}] (hidden = b1.length)`,
    );
  }
  return { inChannels: weights.W1.length / hidden, hidden, rep: weights.W2.length / hidden };
}

/**
 * Checks that a parameter record is consistent: the band-pass keeps `zscore` channels of
 * `wavelengthsNm`, σ > 0, the whitening (when present) fits those channels, the projection fits
 * its input (k components or the kept bands; D = input for a residual one), the centre fits D, all finite.
 *
 * @throws {@link ModelParamsError} naming the parameter at fault
 */
export function validateDeepSvddParams(params: DeepSvddParams): DeepSvddParams {
  if (params.bandpass !== undefined && params.wavelengthUnits === 'index') {
    throw new ModelParamsError('bandpass', 'needs wavelengths in nm; the model has band indices only');
  }
  const kept =
    params.bandpass === undefined
      ? params.wavelengthsNm.length
      : selectBands(params.wavelengthsNm, params.bandpass).length;
  if (kept === 0) {
    throw new ModelParamsError('bandpass', `keeps none of the ${params.wavelengthsNm.length} wavelengths`);
  }
  const { whiten } = params;
  const projected = whiten === undefined ? kept : whiten.components;
  if (whiten !== undefined && !(Number.isSafeInteger(whiten.components) && whiten.components > 0)) {
    throw new ModelParamsError('whiten.components', `${whiten.components} must be a positive integer`);
  }
  if (params.project.residual === true && params.project.rep !== projected) {
    throw new ModelParamsError(
      'project.rep',
      `a residual projection needs D = its input channels (${projected}), got ${params.project.rep}`,
    );
  }
  const arrays: [string, Float32Array, number | undefined][] = [
    ['zscore.mean', params.zscore.mean, kept],
    ['zscore.std', params.zscore.std, kept],
    ...(whiten === undefined
      ? []
      : ([
          ['whiten.mean', whiten.mean, kept],
          ['whiten.matrix', whiten.matrix, whiten.components * kept],
        ] as [string, Float32Array, number][])),
    ['project.W1', params.project.W1, params.project.hidden * projected],
    ['project.b1', params.project.b1, params.project.hidden],
    ['project.W2', params.project.W2, params.project.rep * params.project.hidden],
    ['center', params.center, params.project.rep],
  ];
  for (const [name, values, expected] of arrays) {
    if (values.length !== expected) {
      throw new ModelParamsError(name, `has ${values.length} values, expected ${expected}`);
    }
    const bad = values.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) throw new ModelParamsError(`${name}[${bad}]`, `${values[bad]} is not finite`);
  }
  const nonPositive = params.zscore.std.findIndex((v) => !(v > 0));
  if (nonPositive >= 0) {
    throw new ModelParamsError(`zscore.std[${nonPositive}]`, `${params.zscore.std[nonPositive]} must be > 0`);
  }
  return params;
}

/**
 * Mean embedding over all pixels of all batches, in float64 (the Deep SVDD centre init,
 * docs/maths.md §3.5): pass the embeddings (`[pixels, rep]` pixel-major) of every training frame.
 *
 * @throws {@link ModelParamsError} when there are no pixels or a batch is not whole pixels
 * @example
 * ```ts
 * declare const embeddingsOfEachFrame: Float32Array[]; // [pixels, 32] per training frame
 * const center = meanEmbedding(embeddingsOfEachFrame, 32);
 * ```
 */
export function meanEmbedding(embeddings: Iterable<Float32Array>, rep: number): Float32Array {
  requirePositiveInt('rep', rep);
  const stats = new RunningStats(rep);
  for (const batch of embeddings) {
    if (batch.length % rep !== 0) {
      throw new ModelParamsError(
        'embeddings',
        `a batch of ${batch.length} values is not a whole number of ${rep}-dim pixels`,
      );
    }
    stats.add(batch, rep);
  }
  if (stats.count === 0) throw new ModelParamsError('embeddings', 'no pixels to average');
  return Float32Array.from(stats.mean);
}
