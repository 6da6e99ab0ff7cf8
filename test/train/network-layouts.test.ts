import * as tf from '@tensorflow/tfjs';
import onnxProto from 'onnx-proto';
import { type InferenceSession, Tensor } from 'onnxruntime-node';
import { lastValueFrom, of, toArray } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deepSvddScorer } from '../../operators/bundle-scorer.js';
import {
  type DeepSvddParams,
  initProjection,
  initResidualProjection,
  type ProjectionWeights,
} from '../../src/model/deep-svdd-params.js';
import { type NetworkLayer, networkLayers, networkShapeOf } from '../../src/model/network.js';
import { seededRandom } from '../../src/model/seeded-random.js';
import { initEngine } from '../../src/scoring/engine.js';
import { buildDeepSvddGraph, DEEP_SVDD_IO } from '../../src/scoring/onnx/deep-svdd-graph.js';
import { createOrtSession } from '../../src/scoring/onnx/ort-session.js';
import { DeepSvddVariables } from '../../src/train/deep-svdd-variables.js';
import { OnnxGradients } from '../../src/train/onnx/onnx-gradients.js';
import { buildTrainGraph } from '../../src/train/onnx/train-graph.js';
import { toleranceRatio } from '../fixtures/golden/golden-fixture.js';
import { cube } from '../operators/tensor-frames.js';

const C = 5;
const PIXELS = 60;

function values(n: number, random: () => number, scale = 1, offset = 0): Float32Array {
  return Float32Array.from({ length: n }, () => offset + scale * (random() - 0.5));
}

/** A residual projection whose W2 is away from its zero init. */
function residual(channels: number, hidden: number, random: () => number): ProjectionWeights {
  const project = initResidualProjection(channels, { hidden, seed: 4 });
  return { ...project, W2: values(project.W2.length, random) };
}

interface Layout {
  readonly name: string;
  readonly params: DeepSvddParams;
}

/** Parameter records of other hidden layouts than the reference 128 -> 32. */
function layouts(): Layout[] {
  const random = seededRandom(17);
  const base = (project: ProjectionWeights, whiten?: DeepSvddParams['whiten']): DeepSvddParams => ({
    wavelengthsNm: Float32Array.from({ length: C }, (_, i) => 700 + 10 * i),
    unitNorm: false,
    zscore: { mean: values(C, random, 0.4), std: values(C, random, 0.5, 1) },
    ...(whiten === undefined ? {} : { whiten }),
    project,
    center: values(project.rep, random, 0.6),
  });
  const whiten = (k: number) => ({
    mean: values(C, random, 0.3),
    matrix: values(k * C, random, 1.2),
    components: k,
  });
  return [
    { name: 'hidden 1 -> 2', params: base(initProjection(C, { hidden: 1, rep: 2, seed: 1 })) },
    { name: 'hidden 3 -> 7 (wider than C)', params: base(initProjection(C, { hidden: 3, rep: 7, seed: 2 })) },
    { name: 'residual, no whitening', params: base(residual(C, 4, random)) },
    {
      name: 'whitened 3 -> 4 -> 2',
      params: base(initProjection(3, { hidden: 4, rep: 2, seed: 3 }), whiten(3)),
    },
    { name: 'whitened residual 3 -> 6 -> 3', params: base(residual(3, 6, random), whiten(3)) },
  ];
}

/** s = ||z - c||² in float64, stage by stage as docs/maths.md §3 writes it. */
function reference(p: DeepSvddParams, x: Float32Array): Float64Array {
  const { hidden, rep, W1, b1, W2 } = p.project;
  return Float64Array.from({ length: x.length / C }, (_, n) => {
    let v = Array.from({ length: C }, (_, i) => (x[n * C + i]! - p.zscore.mean[i]!) / p.zscore.std[i]!);
    const { whiten } = p;
    if (whiten !== undefined) {
      const u = v;
      v = Array.from({ length: whiten.components }, (_, j) =>
        u.reduce((s, a, i) => s + whiten.matrix[j * C + i]! * (a - whiten.mean[i]!), 0),
      );
    }
    const h = Array.from({ length: hidden }, (_, j) =>
      Math.max(
        0,
        v.reduce((s, a, i) => s + W1[j * v.length + i]! * a, b1[j]!),
      ),
    );
    let score = 0;
    for (let d = 0; d < rep; d++) {
      const z = h.reduce((s, a, j) => s + W2[d * hidden + j]! * a, p.project.residual === true ? v[d]! : 0);
      score += (z - p.center[d]!) ** 2;
    }
    return score;
  });
}

function expectClose(label: string, got: ArrayLike<number>, want: ArrayLike<number>): void {
  const worst = toleranceRatio(got, want, 1e-4, 1e-5);
  expect(worst.length[0], `${label}: length`).toBe(worst.length[1]);
  expect(
    worst.ratio,
    `${label}: worst at ${worst.index}: got ${worst.got}, want ${worst.ref}`,
  ).toBeLessThanOrEqual(1);
}

/** Op types of a serialised graph's nodes, in order. */
function opTypes(bytes: Uint8Array): string[] {
  return onnxProto.onnx.ModelProto.decode(bytes).graph?.node?.map((node) => node.opType ?? '') ?? [];
}

/** ONNX ops each layer becomes in the training graph's forward pass (a residual rides on the Gemm before it). */
function trainOps(layer: NetworkLayer): string[] {
  if (layer.kind === 'zscore') return ['Sub', 'Div'];
  if (layer.kind === 'relu') return ['Relu'];
  if (layer.kind === 'residual') return [];
  return ['Gemm'];
}

describe('one network description drives every engine', () => {
  const sessions: InferenceSession[] = [];
  const engine = new OnnxGradients({ threads: 1 });
  beforeAll(async () => {
    await initEngine({ backend: 'wasm' });
  });
  afterAll(async () => {
    await Promise.all(sessions.map((s) => s.release()));
    await engine.dispose();
  });

  for (const { name, params } of layouts()) {
    it(`${name}: tfjs and ONNX scoring, tfjs and ONNX training give the reference scores`, async () => {
      const x = values(PIXELS * C, seededRandom(5), 3);
      const want = reference(params, x);

      // tfjs inference chain (zscoreNormalize -> whiten -> projectEmbeddings -> scoreDistance).
      const rows = Array.from({ length: PIXELS }, (_, n) => Array.from(x.subarray(n * C, (n + 1) * C)));
      const [scored] = await lastValueFrom(of(cube(rows)).pipe(deepSvddScorer(params), toArray()));
      expectClose('tfjs scorer', scored?.scores ?? [], want);

      // ONNX scoring graph.
      const graph = buildDeepSvddGraph(params, {
        inChannels: C,
        kept: Int32Array.from({ length: C }, (_, i) => i),
      });
      const session = await createOrtSession(graph.bytes, { threads: 1, describe: graph.describe });
      sessions.push(session);
      const out = await session.run({
        [DEEP_SVDD_IO.x]: new Tensor('float32', x, [PIXELS, C]),
        [DEEP_SVDD_IO.center]: new Tensor('float32', params.center, [params.center.length]),
        [DEEP_SVDD_IO.tau]: new Tensor('float32', Float32Array.of(Number.POSITIVE_INFINITY), [1]),
      });
      expectClose('onnx graph', out[DEEP_SVDD_IO.scores]?.data as Float32Array, want);

      // Training: tfjs embed and the ONNX training graph (α = 0 keeps the centre).
      const model = DeepSvddVariables.create({
        zscore: params.zscore,
        ...(params.whiten === undefined ? {} : { whiten: params.whiten }),
        project: params.project,
        center: params.center,
      });
      try {
        const d = tf.tidy(() => {
          const z = model.embed(tf.tensor2d(x, [PIXELS, C]));
          return tf.sum(tf.square(tf.sub(z, model.center)), 1);
        });
        expectClose('tfjs embed', d.dataSync(), want);
        d.dispose();
        const step = await engine.gradients(model, x, { centerAlpha: 0, intermediates: true });
        expectClose('onnx train graph', step.d?.dataSync() ?? [], want);
        tf.dispose([
          step.loss,
          step.radiusSquared,
          step.center,
          step.z,
          step.d,
          ...Object.values(step.grads),
        ]);
      } finally {
        model.dispose();
      }
    });
  }

  it('the ONNX graphs have one node per layer of the list, and the parameters it names', () => {
    for (const { name, params } of layouts()) {
      const shape = networkShapeOf(params);
      const layers = networkLayers(shape);
      const train = buildTrainGraph({
        channels: C,
        hidden: shape.hidden,
        rep: shape.rep,
        ...(params.whiten === undefined ? {} : { whiten: params.whiten }),
        residual: shape.residual,
        loss: 'soft-boundary',
        grads: ['zscore.mean', 'project.W1'],
        centerAlpha: 0.1,
        nu: 0.1,
        beta: 10,
        intermediates: false,
      });
      const model = onnxProto.onnx.ModelProto.decode(train.bytes);
      const inputs = model.graph?.input?.map((input) => [
        input.name,
        input.type?.tensorType?.shape?.dim?.map((dim) => Number(dim.dimValue ?? 0)),
      ]);
      const params_ = layers.flatMap((layer) =>
        layer.kind === 'zscore'
          ? [
              ['zscore.mean', [layer.channels]],
              ['zscore.std', [layer.channels]],
            ]
          : layer.kind === 'affine'
            ? [
                [`project.${layer.weight}`, [layer.outputs, layer.inputs]],
                ...(layer.bias === undefined ? [] : [[`project.${layer.bias}`, [layer.outputs]]]),
              ]
            : [],
      );
      expect(inputs, name).toEqual([['x', [0, C]], ...params_, ['boundary.r', []], ['center', [shape.rep]]]);
      const forward = opTypes(train.bytes).slice(0, opTypes(train.bytes).indexOf('ReduceMean'));
      expect(forward, name).toEqual(layers.flatMap(trainOps));

      // The scoring graph folds the z-score into the next linear layer (unless a residual needs
      // it), so it has one Gemm per whitening and affine layer, one Relu per relu, one Add per residual.
      const scoring = opTypes(
        buildDeepSvddGraph(params, { inChannels: C, kept: Int32Array.from({ length: C }, (_, i) => i) })
          .bytes,
      );
      const network = scoring.slice(0, scoring.indexOf('ReduceSumSquare')).filter((op) => op !== 'Neg');
      const folded = layers[1]?.kind === 'whiten' || !shape.residual;
      expect(network, name).toEqual(
        layers.flatMap((layer) =>
          layer.kind === 'zscore'
            ? folded
              ? []
              : ['Sub', 'Div']
            : layer.kind === 'relu'
              ? ['Relu']
              : layer.kind === 'residual'
                ? ['Add']
                : ['Gemm'],
        ),
      );
    }
  });
});
