import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OptionError } from '../../src/core/options.js';
import { initProjection } from '../../src/model/deep-svdd-params.js';
import { seededRandom } from '../../src/model/seeded-random.js';
import { initEngine } from '../../src/scoring/engine.js';
import { AdamW } from '../../src/train/adamw.js';
import {
  type DeepSvddParamName,
  DeepSvddVariables,
  type TrainStage,
} from '../../src/train/deep-svdd-variables.js';
import { OnnxGradients } from '../../src/train/onnx/onnx-gradients.js';
import {
  disposeStepGradients,
  type StepGradients,
  softBoundaryGradients,
  type TrainStepOptions,
  trainStepWith,
} from '../../src/train/train-step.js';
import { worstRatio } from './golden-source.js';

const C = 8;
const K = 5;

/** `n` pixels of C bands: a smooth spectrum, noise, and every 23rd pixel far out. */
function pixels(n: number, seed: number): Float32Array {
  const random = seededRandom(seed);
  const out = new Float32Array(n * C);
  for (let i = 0; i < out.length; i++) {
    const outlier = Math.floor(i / C) % 23 === 7 ? 1.5 : 0;
    out[i] = Math.sin(i % C) * 0.3 + (random() - 0.5) * 0.4 + outlier;
  }
  return out;
}

function values(n: number, seed: number, scale: number, offset = 0): Float32Array {
  const random = seededRandom(seed);
  return Float32Array.from({ length: n }, () => offset + (random() - 0.5) * scale);
}

/** A model with every parameter away from its init (r != 0 too), optionally whitened + residual, or residual alone. */
function createModel(
  variant: { whiten?: boolean; residual?: boolean; trainable?: readonly TrainStage[] } = {},
): DeepSvddVariables {
  const zscore = { mean: values(C, 11, 0.2), std: values(C, 12, 0.4, 0.8) };
  if (variant.residual === true) {
    return DeepSvddVariables.create({
      zscore,
      project: { ...initProjection(C, { hidden: 16, rep: C, seed: 4 }), residual: true },
      center: values(C, 16, 0.5),
      r: -0.1,
    });
  }
  if (variant.whiten === true) {
    return DeepSvddVariables.create(
      {
        zscore,
        whiten: { mean: values(C, 13, 0.3), matrix: values(K * C, 14, 1.2), components: K },
        project: { ...initProjection(K, { hidden: 16, rep: K, seed: 5 }), residual: true },
        center: values(K, 15, 0.5),
        r: 0.3,
      },
      variant.trainable === undefined ? {} : { trainable: variant.trainable },
    );
  }
  return DeepSvddVariables.create(
    {
      zscore,
      project: initProjection(C, { hidden: 16, rep: 4, seed: 3 }),
      center: Float32Array.of(0.1, -0.1, 0.2, 0),
      r: 0.05,
    },
    variant.trainable === undefined ? {} : { trainable: variant.trainable },
  );
}

/** ORT's step equals tfjs's: loss, R², centre, z, d and the same gradients (1e-4 relative). */
async function expectSameAsTfjs(
  engine: OnnxGradients,
  model: DeepSvddVariables,
  data: Float32Array,
  options: TrainStepOptions,
): Promise<readonly DeepSvddParamName[]> {
  const before = tf.memory().numTensors;
  const ort = await engine.gradients(model, data, { ...options, intermediates: true });
  const ref = softBoundaryGradients(model, data, options);
  const pairs: [string, tf.Tensor | undefined, tf.Tensor][] = [
    ['loss', ort.loss, ref.loss],
    ['radiusSquared', ort.radiusSquared, ref.radiusSquared],
    ['center', ort.center, ref.center],
    ['z', ort.z, ref.z],
    ['d', ort.d, ref.d],
  ];
  const names = Object.keys(ref.grads).sort() as DeepSvddParamName[];
  expect(Object.keys(ort.grads).sort()).toEqual(names);
  for (const name of names) pairs.push([`grad ${name}`, ort.grads[name], ref.grads[name] as tf.Tensor]);
  for (const [what, got, want] of pairs) {
    expect(got?.shape, what).toEqual(want.shape);
    const worst = worstRatio(got?.dataSync() ?? [], want.dataSync());
    expect(worst.ratio, `${what} ${JSON.stringify(worst)}`).toBeLessThanOrEqual(1);
  }
  disposeStepGradients(ort);
  disposeStepGradients(ref);
  expect(tf.memory().numTensors).toBe(before);
  return names;
}

describe('training gradients on onnxruntime (OnnxGradients)', () => {
  let engine: OnnxGradients;

  beforeAll(async () => {
    await initEngine({ backend: 'wasm' });
    engine = new OnnxGradients({ threads: 2 });
  });
  afterAll(async () => {
    await engine.dispose();
  });

  it('equals tfjs with every stage trainable (soft-boundary)', async () => {
    const model = createModel();
    const names = await expectSameAsTfjs(engine, model, pixels(512, 1), { nu: 0.1, centerAlpha: 0.3 });
    expect(names).toEqual([
      'boundary.r',
      'project.W1',
      'project.W2',
      'project.b1',
      'zscore.mean',
      'zscore.std',
    ]);
    model.dispose();
  });

  it('equals tfjs for frozen subsets, and gives no gradient to frozen parameters', async () => {
    const subsets: (readonly TrainStage[])[] = [
      ['zscore', 'boundary'],
      ['project'],
      ['zscore'],
      ['boundary'],
    ];
    for (const trainable of subsets) {
      const model = createModel({ trainable });
      const names = await expectSameAsTfjs(engine, model, pixels(300, 2), { nu: 0.05 });
      const stages = names.map((name) => name.slice(0, name.indexOf('.')) as TrainStage);
      expect(stages.every((stage) => trainable.includes(stage))).toBe(true);
      model.dispose();
    }
  });

  it('equals tfjs with whitening and a residual projection, and with a residual one alone', async () => {
    const model = createModel({ whiten: true });
    await expectSameAsTfjs(engine, model, pixels(400, 3), { nu: 0.2, centerAlpha: 0.1 });
    model.setTrainable('project', false);
    await expectSameAsTfjs(engine, model, pixels(400, 3), { nu: 0.2, centerAlpha: 0.1 });
    model.dispose();
    const residual = createModel({ residual: true });
    await expectSameAsTfjs(engine, residual, pixels(400, 3), { nu: 0.2 });
    residual.dispose();
  });

  it('equals tfjs with the trimmed one-class loss, ties included', async () => {
    const model = createModel();
    await expectSameAsTfjs(engine, model, pixels(500, 4), { loss: 'trimmed-one-class', trim: 0.05 });
    const whitened = createModel({ whiten: true });
    await expectSameAsTfjs(engine, whitened, pixels(500, 4), { loss: 'trimmed-one-class', trim: 0.1 });
    // Duplicated pixels make a tie at the threshold (keep = 64 - floor(0.3·64) = 45 splits a pair):
    // both engines keep every tied score.
    const tied = pixels(64, 5);
    for (let p = 1; p < 64; p += 2) tied.copyWithin(p * C, (p - 1) * C, p * C);
    const probe = await engine.gradients(model, tied, { loss: 'trimmed-one-class', intermediates: true });
    const sorted = Float32Array.from(probe.d?.dataSync() ?? []).sort();
    expect(sorted[44]).toBe(sorted[45]);
    disposeStepGradients(probe);
    await expectSameAsTfjs(engine, model, tied, { loss: 'trimmed-one-class', trim: 0.3 });
    model.dispose();
    whitened.dispose();
  });

  it('rejects a batch of the wrong width, bad options and a model with nothing to train', async () => {
    const model = createModel();
    await expect(engine.gradients(model, new Float32Array(C * 2 + 1))).rejects.toThrow(
      /whole number of 8-band pixels/,
    );
    const wide = tf.zeros([4, C + 1]) as tf.Tensor2D;
    await expect(engine.gradients(model, wide)).rejects.toThrow(/must be \[N > 0, 8\]/);
    wide.dispose();
    await expect(engine.gradients(model, pixels(4, 1), { centerAlpha: 2 })).rejects.toThrow(OptionError);
    await expect(engine.gradients(model, pixels(4, 1), { nu: 0 })).rejects.toThrow(OptionError);
    await expect(
      engine.gradients(model, pixels(4, 1), { loss: 'trimmed-one-class', trim: 1 }),
    ).rejects.toThrow(OptionError);
    for (const stage of ['zscore', 'project', 'boundary'] as const) model.setTrainable(stage, false);
    await expect(engine.gradients(model, pixels(4, 1))).rejects.toThrow(/no stage is trainable/);
    model.dispose();
  });

  it('leaks no tensor over 50 steps, and learns on a fixed batch', async () => {
    const model = createModel();
    const optimizer = new AdamW(model.allVariables(), { lr: 1e-2 });
    const data = pixels(256, 6);
    const batch = tf.tensor2d(data, [256, C]);
    const first = await trainStepWith(engine, model, optimizer, batch);
    const steady = tf.memory().numTensors;
    let last = first;
    for (let i = 0; i < 25; i++) {
      last = await trainStepWith(engine, model, optimizer, batch);
      await trainStepWith(engine, model, optimizer, data.subarray(0, 64 * C), { loss: 'trimmed-one-class' });
    }
    expect(tf.memory().numTensors).toBe(steady);
    expect(last.loss).toBeLessThan(first.loss);
    batch.dispose();
    optimizer.dispose();
    model.dispose();
  });

  it('creates one session per graph variant and reuses it', async () => {
    const own = new OnnxGradients({ threads: 1 });
    const model = createModel();
    const run = async (options: TrainStepOptions): Promise<void> => {
      const step: StepGradients = await own.gradients(model, pixels(32, 7), options);
      disposeStepGradients(step);
    };
    await run({});
    await run({});
    expect(own.sessions).toBe(1);
    await run({ loss: 'trimmed-one-class' });
    model.setTrainable('zscore', false);
    await run({});
    expect(own.sessions).toBe(3);
    await own.dispose();
    model.dispose();
  });
});
