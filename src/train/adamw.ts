import * as tf from '@tensorflow/tfjs';
import { OptionError } from '../core/options.js';

/** Hyper-parameters of {@link AdamW}; defaults are PyTorch's `torch.optim.AdamW`. */
export interface AdamWOptions {
  /** Learning rate (default 1e-3). */
  lr?: number;
  /** Decay rates of the first and second moment estimates (default `[0.9, 0.999]`). */
  betas?: readonly [number, number];
  /** Added to the denominator for stability (default 1e-8). */
  eps?: number;
  /** Decoupled weight decay: p <- p - lr·wd·p each step (default 0.01). */
  weightDecay?: number;
}

/** One parameter group as given to {@link AdamW}: its own lr / weight decay override the defaults. */
export interface ParamGroupInit {
  /** Name for logs and learning-rate reports (default `group<i>`). */
  name?: string;
  /** Variables updated with this group's settings. */
  params: readonly tf.Variable[];
  /** Learning rate of this group (default: the optimizer's). */
  lr?: number;
  /** Weight decay of this group (default: the optimizer's). */
  weightDecay?: number;
}

/** A parameter group as the optimizer holds it; `lr` may be changed between steps (schedulers). */
export interface ParamGroup {
  /** Group name (from {@link ParamGroupInit.name}, else `group<i>`). */
  readonly name: string;
  /** Variables of the group. */
  readonly params: readonly tf.Variable[];
  /** Learning rate used at the next step. */
  lr: number;
  /** Decoupled weight decay of the group. */
  readonly weightDecay: number;
}

/** Something whose learning rates a scheduler can read and change, group by group. */
export interface LearningRateControl {
  /** Current learning rate of every group, in group order. */
  learningRates(): number[];
  /** Sets the learning rate of one group, or of all groups when `group` is omitted. */
  setLearningRate(lr: number, group?: number): void;
}

/** Per-parameter state: first/second moments as variables, and the number of steps taken. */
interface ParamState {
  readonly m: tf.Variable;
  readonly v: tf.Variable;
  step: number;
}

function checkRate(option: string, value: number, upper: number): number {
  if (!(Number.isFinite(value) && value >= 0 && value < upper)) {
    throw new OptionError(
      'training',
      option,
      value,
      `must be finite, >= 0${upper < Infinity ? ` and < ${upper}` : ''}`,
    );
  }
  return value;
}

/**
 * AdamW with decoupled weight decay, step for step as PyTorch's `torch.optim.AdamW` (no amsgrad):
 * for each parameter p with gradient g, at its step t,
 * `p <- p·(1 - lr·wd)`, `m <- β1·m + (1-β1)·g`, `v <- β2·v + (1-β2)·g²`,
 * `p <- p - (lr / (1-β1^t)) · m / (sqrt(v) / sqrt(1-β2^t) + eps)`.
 * tfjs's own Adam has no decoupled decay, hence this class.
 *
 * Moments are `tf.Variable`s created at a parameter's first update; the step count is kept per
 * parameter (as PyTorch does), so a parameter unfrozen later starts its own bias correction.
 * Parameters without a gradient (frozen) are left untouched, decay included.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * declare const lossFn: () => tf.Scalar; // a batch's loss, computed from model.params
 * const p = model.params;
 * const opt = new AdamW([
 *   { name: 'net', params: [p['project.W1'], p['project.b1'], p['project.W2']] },
 *   { name: 'radius', params: [p['boundary.r']] },
 * ]);
 * tf.tidy(() => opt.applyGradients(tf.variableGrads(lossFn).grads));
 * opt.setLearningRate(1e-4); // e.g. from ReduceLROnPlateau
 * opt.dispose();
 * ```
 */
export class AdamW implements LearningRateControl {
  /** Parameter groups, in the order given. */
  readonly groups: readonly ParamGroup[];
  private readonly beta1: number;
  private readonly beta2: number;
  private readonly eps: number;
  private readonly state = new Map<tf.Variable, ParamState>();
  private readonly byName = new Map<string, { variable: tf.Variable; group: ParamGroup }>();

  /**
   * @param params - variables (one group) or parameter groups
   * @throws {@link OptionError} for a negative/non-finite lr, eps or decay, betas outside [0, 1),
   *   or a variable listed twice
   */
  constructor(params: readonly tf.Variable[] | readonly ParamGroupInit[], options: AdamWOptions = {}) {
    const lr = checkRate('adamw.lr', options.lr ?? 1e-3, Infinity);
    const [beta1, beta2] = options.betas ?? [0.9, 0.999];
    this.beta1 = checkRate('adamw.betas[0]', beta1, 1);
    this.beta2 = checkRate('adamw.betas[1]', beta2, 1);
    this.eps = checkRate('adamw.eps', options.eps ?? 1e-8, Infinity);
    const weightDecay = checkRate('adamw.weightDecay', options.weightDecay ?? 0.01, Infinity);
    const inits: readonly ParamGroupInit[] = params.every((p) => p instanceof tf.Variable)
      ? [{ params: params as readonly tf.Variable[] }]
      : (params as readonly ParamGroupInit[]);
    this.groups = inits.map((init, i) => ({
      name: init.name ?? `group${i}`,
      params: [...init.params],
      lr: checkRate(`adamw.groups[${i}].lr`, init.lr ?? lr, Infinity),
      weightDecay: checkRate(`adamw.groups[${i}].weightDecay`, init.weightDecay ?? weightDecay, Infinity),
    }));
    for (const group of this.groups) {
      for (const variable of group.params) {
        if (this.byName.has(variable.name)) {
          throw new OptionError('training', 'adamw.params', variable.name, 'variable is listed twice');
        }
        this.byName.set(variable.name, { variable, group });
      }
    }
  }

  /**
   * One AdamW step for every parameter that has a gradient in `grads` (keyed by variable name,
   * as `tf.variableGrads` returns them; `null`/missing entries are skipped). Does not dispose
   * `grads`. Intermediates are freed here.
   *
   * @throws {@link OptionError} for a gradient of a variable this optimizer does not hold,
   *   or of the wrong shape
   */
  applyGradients(grads: Readonly<Record<string, tf.Tensor | null | undefined>>): void {
    tf.tidy(() => {
      for (const [name, grad] of Object.entries(grads)) {
        if (grad === null || grad === undefined) continue;
        const entry = this.byName.get(name);
        if (entry === undefined)
          throw new OptionError('training', 'grads', name, 'is not a parameter of this optimizer');
        if (!tf.util.arraysEqual(grad.shape, entry.variable.shape)) {
          throw new OptionError(
            'training',
            `grads.${name}`,
            `[${grad.shape}]`,
            `shape differs from [${entry.variable.shape}]`,
          );
        }
        this.update(entry.variable, entry.group, grad);
      }
    });
  }

  private update(p: tf.Variable, group: ParamGroup, g: tf.Tensor): void {
    let s = this.state.get(p);
    if (s === undefined) {
      s = { m: tf.variable(tf.zerosLike(p), false), v: tf.variable(tf.zerosLike(p), false), step: 0 };
      this.state.set(p, s);
    }
    s.step += 1;
    const { lr, weightDecay } = group;
    const m = tf.add(tf.mul(s.m, this.beta1), tf.mul(g, 1 - this.beta1));
    const v = tf.add(tf.mul(s.v, this.beta2), tf.mul(tf.square(g), 1 - this.beta2));
    const biasCorrection1 = 1 - this.beta1 ** s.step;
    const biasCorrection2Sqrt = Math.sqrt(1 - this.beta2 ** s.step);
    const stepSize = lr / biasCorrection1;
    const denom = tf.add(tf.div(tf.sqrt(v), biasCorrection2Sqrt), this.eps);
    const decayed = tf.mul(p, 1 - lr * weightDecay);
    s.m.assign(m);
    s.v.assign(v);
    p.assign(tf.sub(decayed, tf.mul(tf.div(m, denom), stepSize)));
  }

  /** Steps taken for `variable` (0 before its first gradient). */
  stepCount(variable: tf.Variable): number {
    return this.state.get(variable)?.step ?? 0;
  }

  /** Current learning rate of every group, in group order. */
  learningRates(): number[] {
    return this.groups.map((group) => group.lr);
  }

  /**
   * Sets the learning rate of group `group`, or of all groups.
   *
   * @throws {@link OptionError} for a negative or non-finite lr or an unknown group index
   */
  setLearningRate(lr: number, group?: number): void {
    checkRate('adamw.lr', lr, Infinity);
    if (group === undefined) {
      for (const g of this.groups) g.lr = lr;
      return;
    }
    const target = this.groups[group];
    if (target === undefined)
      throw new OptionError('training', 'adamw.group', group, `no such group (have ${this.groups.length})`);
    target.lr = lr;
  }

  /** Frees the moment variables; the optimizer must not be used afterwards. */
  dispose(): void {
    for (const s of this.state.values()) {
      s.m.dispose();
      s.v.dispose();
    }
    this.state.clear();
  }
}
