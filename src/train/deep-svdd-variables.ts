import * as tf from '@tensorflow/tfjs';
import { type ProjectionWeights, projectionShape } from '../model/deep-svdd-params.js';
import { ModelParamsError } from '../model/model-errors.js';
import {
  type NetworkLayer,
  networkLayers,
  type ProjectionParamName,
  projectionParamName,
  projectionStart,
} from '../model/network.js';
import type { WhiteningParams } from '../model/robust-whitening.js';
import type { ZscoreStats } from '../model/running-stats.js';

/** Stages whose parameters can be frozen or trained, by name (as in training-stage configs). */
export type TrainStage = 'zscore' | 'project' | 'boundary';

/** Every {@link TrainStage}, in pipeline order. */
export const TRAIN_STAGES: readonly TrainStage[] = ['zscore', 'project', 'boundary'];

/** Trained parameters, named `<stage>.<param>` as in `weights.safetensors`. */
export type DeepSvddParamName = 'zscore.mean' | 'zscore.std' | ProjectionParamName | 'boundary.r';

/** Parameters of each stage. */
export const STAGE_PARAMS: Readonly<Record<TrainStage, readonly DeepSvddParamName[]>> = {
  zscore: ['zscore.mean', 'zscore.std'],
  project: ['project.W1', 'project.b1', 'project.W2'],
  boundary: ['boundary.r'],
};

/** Starting values of a {@link DeepSvddVariables}. */
export interface DeepSvddInit {
  /** Per-channel z-score (statistical init). */
  readonly zscore: ZscoreStats;
  /** Whitening after the z-score (as in the scene default), kept constant in training; absent: none. */
  readonly whiten?: WhiteningParams;
  /** Projection weights, (out, in) row-major. */
  readonly project: Pick<ProjectionWeights, 'W1' | 'b1' | 'W2' | 'residual'>;
  /** Hypersphere centre (length D): the mean embedding under the initial network. */
  readonly center: Float32Array;
  /** The radius scalar r (default 0, so R = log(2)/10). */
  readonly r?: number;
}

/** Options of {@link DeepSvddVariables.create}. */
export interface DeepSvddVariablesOptions {
  /** Stages trained from the start (default all); the others are frozen. */
  trainable?: readonly TrainStage[];
}

/** The parameter values read back from the variables, as plain arrays (for checkpoints and bundles). */
export interface DeepSvddSnapshot {
  readonly zscore: ZscoreStats;
  /** The (constant) whitening stage, when the model has one. */
  readonly whiten?: WhiteningParams;
  readonly project: ProjectionWeights;
  readonly center: Float32Array;
  readonly r: number;
}

function check(name: string, values: Float32Array, expected: number): void {
  if (values.length !== expected) {
    throw new ModelParamsError(name, `has ${values.length} values, expected ${expected}`);
  }
  const bad = values.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) throw new ModelParamsError(`${name}[${bad}]`, `${values[bad]} is not finite`);
}

/** A variable holding a copy of `values` with `shape`. */
function variableOf(values: Float32Array, shape: number[], trainable: boolean): tf.Variable {
  const initial = tf.tensor(Float32Array.from(values), shape, 'float32');
  const variable = tf.variable(initial, trainable);
  initial.dispose();
  return variable;
}

/**
 * The Deep SVDD parameters as tfjs variables for training: z-score μ/σ, W1, b1, W2, the radius
 * scalar r (all trainable per stage) and the centre c (never trainable: the trainer moves it
 * by EMA). `embed` is the forward pass z = W2·relu(W1·(x-μ)/σ + b1).
 *
 * @example
 * ```ts
 * import { initProjection } from '../model/deep-svdd-params.js';
 * const { zscore, center } = params; // a model with 27 channels after the band-pass
 * const model = DeepSvddVariables.create({ zscore, project: initProjection(27), center }, { trainable: ['project', 'boundary'] });
 * model.setTrainable('zscore', true); // phase 2
 * const snapshot = model.snapshot();
 * model.dispose();
 * ```
 */
export class DeepSvddVariables {
  /** Input channels C (of the z-score). */
  readonly inChannels: number;
  /** The whitening stage (constant), when present. */
  readonly whitening: WhiteningParams | undefined;
  readonly #whiten: { readonly mean: tf.Tensor1D; readonly matrixT: tf.Tensor2D } | undefined;
  readonly #residual: boolean;
  /** The forward pass, layer by layer (`networkLayers`). */
  readonly layers: readonly NetworkLayer[];
  /** Hidden width. */
  readonly hidden: number;
  /** Embedding dimension D. */
  readonly rep: number;
  /** Variables by parameter name. */
  readonly params: Readonly<Record<DeepSvddParamName, tf.Variable>>;
  /** Centre c, `[D]`, not trainable. */
  readonly center: tf.Variable<tf.Rank.R1>;
  private readonly names = new Map<string, DeepSvddParamName>();

  private constructor(init: DeepSvddInit, trainable: readonly TrainStage[]) {
    const { inChannels: projectIn, hidden, rep } = projectionShape(init.project);
    const inChannels = init.zscore.mean.length;
    const { whiten } = init;
    if (whiten !== undefined) {
      check('whiten.mean', whiten.mean, inChannels);
      check('whiten.matrix', whiten.matrix, whiten.components * inChannels);
    }
    const expectedProjectIn = whiten?.components ?? inChannels;
    if (projectIn !== expectedProjectIn)
      throw new ModelParamsError(
        'project.W1',
        `takes ${projectIn} channels, the ${whiten === undefined ? 'z-score gives' : 'whitening gives'} ${expectedProjectIn}`,
      );
    this.#residual = init.project.residual === true;
    if (this.#residual && rep !== projectIn)
      throw new ModelParamsError('project.rep', `a residual projection needs D = ${projectIn}, got ${rep}`);
    this.whitening = whiten;
    this.#whiten =
      whiten === undefined
        ? undefined
        : {
            mean: tf.tensor1d(whiten.mean, 'float32'),
            matrixT: tf.tidy(() =>
              tf.transpose(tf.tensor2d(whiten.matrix, [whiten.components, inChannels], 'float32')),
            ),
          };
    this.inChannels = inChannels;
    this.hidden = hidden;
    this.rep = rep;
    this.layers = networkLayers({
      channels: inChannels,
      ...(whiten === undefined ? {} : { components: whiten.components }),
      hidden,
      rep,
      residual: this.#residual,
    });
    const r = init.r ?? 0;
    if (!Number.isFinite(r)) throw new ModelParamsError('boundary.r', `${r} is not finite`);
    const stdBad = init.zscore.std.findIndex((v) => !(v > 0));
    if (stdBad >= 0)
      throw new ModelParamsError(`zscore.std[${stdBad}]`, `${init.zscore.std[stdBad]} must be > 0`);
    check('zscore.mean', init.zscore.mean, inChannels);
    check('zscore.std', init.zscore.std, inChannels);
    check('project.W1', init.project.W1, hidden * projectIn);
    check('project.b1', init.project.b1, hidden);
    check('project.W2', init.project.W2, rep * hidden);
    check('center', init.center, rep);
    const on = (stage: TrainStage): boolean => trainable.includes(stage);
    this.params = {
      'zscore.mean': variableOf(init.zscore.mean, [inChannels], on('zscore')),
      'zscore.std': variableOf(init.zscore.std, [inChannels], on('zscore')),
      'project.W1': variableOf(init.project.W1, [hidden, projectIn], on('project')),
      'project.b1': variableOf(init.project.b1, [hidden], on('project')),
      'project.W2': variableOf(init.project.W2, [rep, hidden], on('project')),
      'boundary.r': variableOf(Float32Array.of(r), [], on('boundary')),
    };
    this.center = variableOf(init.center, [rep], false) as tf.Variable<tf.Rank.R1>;
    for (const [name, variable] of Object.entries(this.params) as [DeepSvddParamName, tf.Variable][]) {
      this.names.set(variable.name, name);
    }
  }

  /**
   * Creates the variables from initial values (copied).
   *
   * @throws {@link ModelParamsError} naming a parameter of the wrong length, non-finite, or σ <= 0
   */
  static create(init: DeepSvddInit, options: DeepSvddVariablesOptions = {}): DeepSvddVariables {
    return new DeepSvddVariables(init, options.trainable ?? TRAIN_STAGES);
  }

  /** Freezes (`false`) or unfreezes (`true`) every parameter of a stage. */
  setTrainable(stage: TrainStage, trainable: boolean): void {
    for (const name of STAGE_PARAMS[stage]) this.params[name].trainable = trainable;
  }

  /** Stages whose parameters are all trainable now. */
  trainableStages(): TrainStage[] {
    return TRAIN_STAGES.filter((stage) => STAGE_PARAMS[stage].every((name) => this.params[name].trainable));
  }

  /** The variables that are trainable now (what gradients are taken for). */
  trainableVariables(): tf.Variable[] {
    return Object.values(this.params).filter((v) => v.trainable);
  }

  /** Every parameter variable (trainable or not), for the optimizer; excludes the centre. */
  allVariables(): tf.Variable[] {
    return Object.values(this.params);
  }

  /** The parameter name of a variable of this model (`undefined` for a foreign variable). */
  paramName(variableName: string): DeepSvddParamName | undefined {
    return this.names.get(variableName);
  }

  /** Whether the projection is residual: z = y + W2·relu(W1·y + b1). */
  get residual(): boolean {
    return this.#residual;
  }

  /** The radius scalar r. */
  get r(): tf.Variable<tf.Rank.R0> {
    return this.params['boundary.r'] as tf.Variable<tf.Rank.R0>;
  }

  /**
   * Embeddings z = W2·relu(W1·y + b1) of `[N, C]` unit-normed pixels -> `[N, D]`, y = (x - μ)/σ,
   * or its whitening (y - m)·Mᵀ when the model has one; plus y for a residual projection.
   * Differentiable in every parameter. Walks {@link DeepSvddVariables.layers}.
   */
  embed(pixels: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => {
      const start = projectionStart(this.layers);
      let y = pixels;
      let input = pixels; // the projection's input, which a residual layer adds back
      this.layers.forEach((layer, i) => {
        if (i === start) input = y;
        y = this.#layer(layer, y, input);
      });
      return y;
    });
  }

  /** One layer of {@link embed} on `y`. */
  #layer(layer: NetworkLayer, y: tf.Tensor2D, input: tf.Tensor2D): tf.Tensor2D {
    switch (layer.kind) {
      case 'zscore':
        return tf.div(tf.sub(y, this.params['zscore.mean']), this.params['zscore.std']) as tf.Tensor2D;
      case 'whiten': {
        const whiten = this.#whiten;
        if (whiten === undefined) throw new ModelParamsError('whiten', 'is absent, the layer list has one');
        return tf.matMul(tf.sub(y, whiten.mean), whiten.matrixT);
      }
      case 'affine': {
        const weight = this.params[projectionParamName(layer.weight)];
        const product = tf.matMul(y, weight, false, true) as tf.Tensor2D;
        return layer.bias === undefined
          ? product
          : (tf.add(product, this.params[projectionParamName(layer.bias)]) as tf.Tensor2D);
      }
      case 'relu':
        return tf.relu(y);
      case 'residual':
        return tf.add(input, y) as tf.Tensor2D;
    }
  }

  /** Reads every value back into plain arrays (a copy; synchronous). */
  snapshot(): DeepSvddSnapshot {
    const read = (name: DeepSvddParamName): Float32Array => Float32Array.from(this.params[name].dataSync());
    return {
      zscore: { mean: read('zscore.mean'), std: read('zscore.std') },
      ...(this.whitening === undefined ? {} : { whiten: this.whitening }),
      project: {
        W1: read('project.W1'),
        b1: read('project.b1'),
        W2: read('project.W2'),
        hidden: this.hidden,
        rep: this.rep,
        ...(this.#residual ? { residual: true } : {}),
      },
      center: Float32Array.from(this.center.dataSync()),
      r: this.r.dataSync()[0] ?? 0,
    };
  }

  /** Frees every variable. */
  dispose(): void {
    for (const variable of Object.values(this.params)) variable.dispose();
    this.center.dispose();
    this.#whiten?.mean.dispose();
    this.#whiten?.matrixT.dispose();
  }
}
