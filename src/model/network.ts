import type { DeepSvddParams, ProjectionWeights } from './deep-svdd-params.js';
import { projectionShape } from './deep-svdd-params.js';
import { ModelParamsError } from './model-errors.js';

/** Weight matrices of the projection, as keys of {@link ProjectionWeights}. */
export type ProjectionWeightKey = 'W1' | 'W2';
/** Bias vectors of the projection, as keys of {@link ProjectionWeights}. */
export type ProjectionBiasKey = 'b1';
/** A projection tensor named `<stage>.<param>` as in `weights.safetensors` (e.g. `project.W1`). */
export type ProjectionParamName = `project.${ProjectionWeightKey | ProjectionBiasKey}`;

/** y = (x - μ)/σ per channel, μ and σ the trained `zscore.mean` / `zscore.std` (docs/maths.md §3.3). */
export interface ZscoreLayer {
  readonly kind: 'zscore';
  /** Channels C in and out. */
  readonly channels: number;
}

/** y' = (y - m)·Mᵀ, the constant whitening of issue 5 (`DeepSvddParams.whiten`). */
export interface WhitenLayer {
  readonly kind: 'whiten';
  /** Channels C in. */
  readonly channels: number;
  /** Components k out. */
  readonly components: number;
}

/** y·Wᵀ (+ b), `nn.Linear`: W `[outputs, inputs]` row-major, b `[outputs]` (docs/maths.md §3.4). */
export interface AffineLayer {
  readonly kind: 'affine';
  /** The weight matrix, a key of {@link ProjectionWeights}. */
  readonly weight: ProjectionWeightKey;
  /** The bias vector; absent: no bias. */
  readonly bias?: ProjectionBiasKey;
  readonly inputs: number;
  readonly outputs: number;
}

/** max(y, 0), element-wise. */
export interface ReluLayer {
  readonly kind: 'relu';
}

/** Adds the projection's input back: z = y' + f(y') (issue 5; the width must not change). */
export interface ResidualLayer {
  readonly kind: 'residual';
}

/** A layer of the projection network. */
export type ProjectionLayer = AffineLayer | ReluLayer | ResidualLayer;

/** A layer of the Deep SVDD forward pass, from the unit-normed pixel x to its embedding z. */
export type NetworkLayer = ZscoreLayer | WhitenLayer | ProjectionLayer;

/** Widths of the projection network (`projectionShape` plus whether it is residual). */
export interface ProjectionShape {
  /** Input channels: C, or k after a whitening. */
  readonly inChannels: number;
  /** Hidden width. */
  readonly hidden: number;
  /** Embedding dimension D. */
  readonly rep: number;
  /** z = y' + W2·relu(W1·y' + b1) (needs D = `inChannels`). */
  readonly residual: boolean;
}

/** Widths of the whole forward pass: z-score, optional whitening, projection. */
export interface NetworkShape extends Omit<ProjectionShape, 'inChannels'> {
  /** Channels C of the z-score. */
  readonly channels: number;
  /** Components k of the whitening; absent: no whitening (the projection takes C channels). */
  readonly components?: number;
}

/** Whether a layer belongs to the projection (the part a residual layer adds the input of back). */
export function isProjectionLayer(layer: NetworkLayer): layer is ProjectionLayer {
  return layer.kind === 'affine' || layer.kind === 'relu' || layer.kind === 'residual';
}

/** Index of the first projection layer: its input is what a residual layer adds back (-1: none). */
export function projectionStart(layers: readonly NetworkLayer[]): number {
  return layers.findIndex(isProjectionLayer);
}

/** The parameter name of a projection weight or bias key, e.g. `W1` -> `project.W1`. */
export function projectionParamName(key: ProjectionWeightKey | ProjectionBiasKey): ProjectionParamName {
  return `project.${key}`;
}

/**
 * The projection network as an ordered layer list (docs/maths.md §3.4): Linear(W1, b1) -> ReLU ->
 * Linear(W2, no bias), then a residual add when `residual`. Every engine builds its forward pass
 * by walking this list.
 *
 * @throws {@link ModelParamsError} (`project.rep`) for a residual projection with D ≠ its input width
 * @example
 * ```ts
 * projectionLayers({ inChannels: 27, hidden: 128, rep: 32, residual: false }).map((l) => l.kind)
 * // ['affine', 'relu', 'affine']
 * ```
 */
export function projectionLayers(shape: ProjectionShape): readonly ProjectionLayer[] {
  const { inChannels, hidden, rep, residual } = shape;
  if (residual && rep !== inChannels) {
    throw new ModelParamsError('project.rep', `a residual projection needs D = ${inChannels}, got ${rep}`);
  }
  const layers: ProjectionLayer[] = [
    { kind: 'affine', weight: 'W1', bias: 'b1', inputs: inChannels, outputs: hidden },
    { kind: 'relu' },
    { kind: 'affine', weight: 'W2', inputs: hidden, outputs: rep },
  ];
  if (residual) layers.push({ kind: 'residual' });
  return layers;
}

/**
 * The whole forward pass as an ordered layer list (docs/maths.md §3.3-3.4, §3.12): z-score, the
 * whitening when the model has one, then {@link projectionLayers}. The distance to the centre
 * (§3.6) follows the list; each engine applies it its own way.
 *
 * @example
 * ```ts
 * networkLayers({ channels: 27, hidden: 128, rep: 32, residual: false }).map((l) => l.kind)
 * // ['zscore', 'affine', 'relu', 'affine']
 * ```
 */
export function networkLayers(shape: NetworkShape): readonly NetworkLayer[] {
  const { channels, components } = shape;
  return [
    { kind: 'zscore', channels },
    ...(components === undefined ? [] : [{ kind: 'whiten', channels, components } as const]),
    ...projectionLayers({ ...shape, inChannels: components ?? channels }),
  ];
}

/**
 * The {@link ProjectionShape} of projection weights, checked (`projectionShape`).
 *
 * @throws {@link ModelParamsError} naming the weight whose length does not fit
 */
export function projectionShapeOf(
  weights: Pick<ProjectionWeights, 'W1' | 'b1' | 'W2' | 'residual'>,
): ProjectionShape {
  return { ...projectionShape(weights), residual: weights.residual === true };
}

/**
 * The {@link NetworkShape} of a parameter record: C from the z-score, k from the whitening,
 * the rest from the projection weights.
 *
 * @throws {@link ModelParamsError} naming the weight whose length does not fit
 */
export function networkShapeOf(params: Pick<DeepSvddParams, 'zscore' | 'whiten' | 'project'>): NetworkShape {
  const { hidden, rep, residual } = projectionShapeOf(params.project);
  return {
    channels: params.zscore.mean.length,
    ...(params.whiten === undefined ? {} : { components: params.whiten.components }),
    hidden,
    rep,
    residual,
  };
}

/**
 * The widths along a layer list, e.g. `27->128->32`, and ` residual` for a residual projection
 * (the network part of the engines' `describe` strings).
 */
export function describeLayers(layers: readonly NetworkLayer[]): string {
  const widths: number[] = [];
  let residual = false;
  for (const layer of layers) {
    if (layer.kind === 'zscore') widths.push(layer.channels);
    else if (layer.kind === 'whiten') widths.push(layer.components);
    else if (layer.kind === 'affine') {
      if (widths.length === 0) widths.push(layer.inputs);
      widths.push(layer.outputs);
    } else if (layer.kind === 'residual') residual = true;
  }
  return `${widths.join('->')}${residual ? ' residual' : ''}`;
}
