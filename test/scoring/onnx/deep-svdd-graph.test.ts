import { type InferenceSession, Tensor } from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import {
  type DeepSvddParams,
  initProjection,
  initResidualProjection,
} from '../../../src/model/deep-svdd-params.js';
import { ModelParamsError } from '../../../src/model/model-errors.js';
import { seededRandom } from '../../../src/model/seeded-random.js';
import {
  buildDeepSvddGraph,
  DEEP_SVDD_IO,
  foldZscore,
  type SelectionStyle,
} from '../../../src/scoring/onnx/deep-svdd-graph.js';
import { createOrtSession } from '../../../src/scoring/onnx/ort-session.js';
import { toleranceRatio } from '../../fixtures/golden/golden-fixture.js';

function expectClose(got: ArrayLike<number>, ref: ArrayLike<number>, rel: number, abs: number): void {
  const worst = toleranceRatio(got, ref, rel, abs);
  expect(worst.length[0], 'length').toBe(worst.length[1]);
  expect(worst.ratio, `worst at ${worst.index}: got ${worst.got}, ref ${worst.ref}`).toBeLessThanOrEqual(1);
}

const IN = 10;
const KEPT = Int32Array.of(2, 3, 4, 5, 6, 7);

function params(seed: number, unitNorm = true): DeepSvddParams {
  const random = seededRandom(seed);
  const c = KEPT.length;
  return {
    wavelengthsNm: Float32Array.from({ length: IN }, (_, i) => 680 + 10 * i),
    bandpass: { minNm: 700, maxNm: 750 },
    unitNorm,
    zscore: {
      mean: Float32Array.from({ length: c }, () => random() - 0.5),
      std: Float32Array.from({ length: c }, () => 0.2 + random()),
    },
    project: initProjection(c, { seed, hidden: 16, rep: 5 }),
    center: Float32Array.from({ length: 5 }, () => random() - 0.5),
  };
}

/** The chain in float64, stage by stage as docs/maths.md §3 writes it (no folding). */
function reference(
  p: DeepSvddParams,
  x: ArrayLike<number>,
  pixels: number,
  center: Float32Array,
  tau: number,
) {
  const { hidden, rep } = p.project;
  const c = KEPT.length;
  const scores = new Float64Array(pixels);
  const zsum = new Float64Array(rep);
  let count = 0;
  for (let n = 0; n < pixels; n++) {
    let v = Array.from(KEPT, (k) => x[n * IN + k] as number);
    if (p.unitNorm) {
      const mean = v.reduce((a, b) => a + b, 0) / c;
      const centered = v.map((a) => a - mean);
      const norm = Math.max(Math.sqrt(centered.reduce((a, b) => a + b * b, 0)), 1e-8);
      v = centered.map((a) => a / norm);
    }
    v = v.map((a, i) => (a - (p.zscore.mean[i] as number)) / (p.zscore.std[i] as number));
    const { whiten } = p;
    if (whiten !== undefined) {
      const u = v;
      v = Array.from({ length: whiten.components }, (_, j) =>
        u.reduce((s, a, i) => s + (whiten.matrix[j * c + i] as number) * (a - (whiten.mean[i] as number)), 0),
      );
    }
    const ci = v.length;
    const h = Array.from({ length: hidden }, (_, j) => {
      let s = p.project.b1[j] as number;
      for (let i = 0; i < ci; i++) s += (p.project.W1[j * ci + i] as number) * (v[i] as number);
      return Math.max(s, 0);
    });
    const z = Array.from({ length: rep }, (_, d) => {
      let s = p.project.residual === true ? (v[d] as number) : 0;
      for (let j = 0; j < hidden; j++) s += (p.project.W2[d * hidden + j] as number) * (h[j] as number);
      return s;
    });
    scores[n] = z.reduce((a, zd, d) => a + (zd - (center[d] as number)) ** 2, 0);
    if (scores[n]! < tau) {
      count++;
      z.forEach((zd, d) => {
        zsum[d]! += zd;
      });
    }
  }
  return { scores, zsum, count };
}

function randomPixels(seed: number, pixels: number): Uint16Array {
  const random = seededRandom(seed);
  return Uint16Array.from({ length: pixels * IN }, (_, i) =>
    Math.round(500 + 3000 * random() + 50 * (i % IN)),
  );
}

describe('foldZscore', () => {
  it('folds (x - μ)/σ into the first layer: W1·((x-μ)/σ) + b1 = (W1/σ)·x + (b1 - (W1/σ)·μ)', () => {
    const folded = foldZscore(Float32Array.of(2, 4, -1, 3), Float32Array.of(1, 0), {
      mean: Float32Array.of(3, -1),
      std: Float32Array.of(4, 2),
    });
    expect(Array.from(folded.W1)).toEqual([0.5, 2, -0.25, 1.5]);
    // b1' = b1 - W1'·μ: 1 - (0.5·3 + 2·-1) = 1.5; 0 - (-0.25·3 + 1.5·-1) = 2.25
    expect(Array.from(folded.b1)).toEqual([1.5, 2.25]);
  });

  it('names W1 when it does not fit hidden x channels', () => {
    expect(() =>
      foldZscore(new Float32Array(5), new Float32Array(2), {
        mean: new Float32Array(3),
        std: new Float32Array(3),
      }),
    ).toThrow(/project\.W1/);
  });
});

describe('buildDeepSvddGraph', () => {
  const sessions: InferenceSession[] = [];
  afterAll(async () => {
    await Promise.all(sessions.map((s) => s.release()));
  });

  async function run(
    p: DeepSvddParams,
    x: Uint16Array | Float32Array,
    pixels: number,
    center: Float32Array,
    tau: number,
    selection?: SelectionStyle,
  ) {
    const inputType = x instanceof Uint16Array ? 'uint16' : 'float32';
    const graph = buildDeepSvddGraph(p, {
      inChannels: IN,
      kept: KEPT,
      inputType,
      ...(selection ? { selection } : {}),
    });
    const session = await createOrtSession(graph.bytes, { threads: 1, describe: graph.describe });
    sessions.push(session);
    const out = await session.run({
      [DEEP_SVDD_IO.x]: new Tensor(inputType, x, [pixels, IN]),
      [DEEP_SVDD_IO.center]: new Tensor('float32', center, [center.length]),
      [DEEP_SVDD_IO.tau]: new Tensor('float32', Float32Array.of(tau), [1]),
    });
    return {
      graph,
      scores: out[DEEP_SVDD_IO.scores]?.data as Float32Array,
      zsum: out[DEEP_SVDD_IO.zsumNormal]?.data as Float32Array,
      count: (out[DEEP_SVDD_IO.nNormal]?.data as Float32Array | undefined)?.[0],
    };
  }

  for (const selection of ['ops', 'matmul'] as const) {
    it(`${selection}: scores, zsum_normal and n_normal match the unfolded float64 chain, gated at τ`, async () => {
      const p = params(1);
      const x = randomPixels(2, 200);
      const ungated = reference(p, x, 200, p.center, Number.POSITIVE_INFINITY);
      const sorted = [...ungated.scores].sort((a, b) => a - b);
      const tau = ((sorted[59] as number) + (sorted[60] as number)) / 2; // 60 pixels below
      const ref = reference(p, x, 200, p.center, tau);
      const got = await run(p, x, 200, p.center, tau, selection);
      expect(got.graph.describe).toBe('deep-svdd 10->6->16->5 uint16');
      expectClose(got.scores, ref.scores, 1e-5, 1e-5);
      expect(got.count).toBe(60);
      expectClose(got.zsum, ref.zsum, 1e-5, 1e-5);
    });
  }

  it('the centre is an input: another centre gives other scores from the same session; τ = -∞ counts none', async () => {
    const p = params(3, false);
    const x = Float32Array.from(randomPixels(4, 50), (v) => v / 1000);
    const moved = Float32Array.from(p.center, (v) => v + 0.3);
    const ref = reference(p, x, 50, moved, Number.POSITIVE_INFINITY);
    const got = await run(p, x, 50, moved, Number.POSITIVE_INFINITY);
    expectClose(got.scores, ref.scores, 1e-5, 1e-5);
    expect(got.count).toBe(50);
    expectClose(got.zsum, ref.zsum, 1e-5, 1e-5);
    const none = await run(p, x, 50, moved, Number.NEGATIVE_INFINITY);
    expect(none.count).toBe(0);
    expect(Array.from(none.zsum)).toEqual([0, 0, 0, 0, 0]);
  });

  it('a constant pixel scores like a zero vector after unit norm (eps floor, no NaN)', async () => {
    const p = params(5);
    const x = new Float32Array(IN).fill(1234);
    const got = await run(p, x, 1, p.center, Number.POSITIVE_INFINITY);
    const ref = reference(p, x, 1, p.center, Number.POSITIVE_INFINITY);
    expect(Number.isFinite(got.scores[0])).toBe(true);
    expectClose(got.scores, ref.scores, 1e-5, 1e-6);
  });

  it('refuses a band selection that does not fit the z-score', () => {
    expect(() => buildDeepSvddGraph(params(6), { inChannels: IN, kept: Int32Array.of(1, 2) })).toThrow(
      ModelParamsError,
    );
  });

  it('folds the z-score into the whitening and adds y back for a residual projection (issue 5)', async () => {
    const base = params(7, false);
    const random = seededRandom(8);
    const k = 4;
    const project = initResidualProjection(k, { hidden: 9, seed: 3 });
    const p: DeepSvddParams = {
      ...base,
      whiten: {
        mean: Float32Array.from({ length: KEPT.length }, () => random() - 0.5),
        matrix: Float32Array.from({ length: k * KEPT.length }, () => random() - 0.5),
        components: k,
      },
      project: { ...project, W2: Float32Array.from(project.W2, () => random() - 0.5) },
      center: Float32Array.from({ length: k }, () => 0.1 * (random() - 0.5)),
    };
    const x = Float32Array.from(randomPixels(9, 120), (v) => v / 1000);
    const ungated = reference(p, x, 120, p.center, Number.POSITIVE_INFINITY);
    const sorted = [...ungated.scores].sort((a, b) => a - b);
    const tau = ((sorted[39] as number) + (sorted[40] as number)) / 2;
    const ref = reference(p, x, 120, p.center, tau);
    const got = await run(p, x, 120, p.center, tau);
    expect(got.graph.describe).toBe('deep-svdd 10->6->4->9->4 residual float32');
    expectClose(got.scores, ref.scores, 1e-4, 1e-4);
    expect(got.count).toBe(40);
    expectClose(got.zsum, ref.zsum, 1e-4, 1e-4);
    // A whitening whose width does not fit W1 is named.
    expect(() =>
      buildDeepSvddGraph({ ...p, whiten: { ...p.whiten!, components: 3 } }, { inChannels: IN, kept: KEPT }),
    ).toThrow(/model parameter whiten/);
  });
});
