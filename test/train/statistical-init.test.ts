import { beforeAll, describe, expect, it } from 'vitest';
import { type CubeFrame, createFrame } from '../../src/core/frame.js';
import { OptionError } from '../../src/core/options.js';
import { seededRandom } from '../../src/model/seeded-random.js';
import { initEngine } from '../../src/scoring/engine.js';
import { ClassMap } from '../../src/train/class-map.js';
import { trainingStages } from '../../src/train/operator-stages.js';
import { statisticalInit } from '../../src/train/statistical-init.js';

const WAVELENGTHS = [650, 680, 700, 720, 750, 800, 850, 900];
const KEPT = [2, 3, 4, 5, 6, 7]; // >= 700 nm
const BANDS = WAVELENGTHS.length;
const ANOMALY = 3;

/** Frames of smooth random spectra; every 7th pixel an anomaly with absurd values. */
function makeFrames(count: number, height: number, width: number, seed: number): CubeFrame[] {
  const random = seededRandom(seed);
  return Array.from({ length: count }, (_, f) => {
    const pixels = height * width;
    const data = new Float32Array(pixels * BANDS);
    const labels = new Uint8Array(pixels);
    for (let p = 0; p < pixels; p++) {
      const anomalous = p % 7 === 3;
      labels[p] = anomalous ? ANOMALY : 1 + (p % 2);
      const level = 100 + 50 * random();
      for (let b = 0; b < BANDS; b++) {
        data[p * BANDS + b] = anomalous ? 1e6 * (b % 2) : level * (1 + 0.1 * Math.sin(b + p)) + 5 * random();
      }
    }
    return createFrame({
      frameId: f,
      height,
      width,
      bands: BANDS,
      wavelengths: WAVELENGTHS,
      data,
      labels,
      capturedAt: 0,
    });
  });
}

/** The same pipeline in plain float64: band-pass, unit norm; normal pixels only. */
function reference(frames: CubeFrame[]): { pre: number[][]; raw: number[][] } {
  const pre: number[][] = [];
  const raw: number[][] = [];
  for (const frame of frames) {
    for (let p = 0; p < frame.height * frame.width; p++) {
      if (frame.labels?.[p] === ANOMALY) continue;
      const x = Array.from(frame.data.subarray(p * BANDS, (p + 1) * BANDS));
      raw.push(x);
      const kept = KEPT.map((b) => x[b] as number);
      const mean = kept.reduce((s, v) => s + v, 0) / kept.length;
      const centered = kept.map((v) => v - mean);
      const norm = Math.max(Math.sqrt(centered.reduce((s, v) => s + v * v, 0)), 1e-8);
      pre.push(centered.map((v) => v / norm));
    }
  }
  return { pre, raw };
}

function meanStd(rows: number[][]): { mean: number[]; std: number[] } {
  const n = rows.length;
  const c = rows[0]?.length ?? 0;
  const mean = Array.from({ length: c }, (_, j) => rows.reduce((s, r) => s + (r[j] as number), 0) / n);
  const std = mean.map(
    (m, j) => Math.sqrt(rows.reduce((s, r) => s + ((r[j] as number) - m) ** 2, 0) / (n - 1)) + 1e-8,
  );
  return { mean, std };
}

/** Largest |actual - expected| / scale(expected) over the elements (Infinity on a length mismatch). */
function worstError(actual: ArrayLike<number>, expected: number[], scale: (value: number) => number): number {
  if (actual.length !== expected.length) return Number.POSITIVE_INFINITY;
  return Math.max(...expected.map((e, i) => Math.abs((actual[i] as number) - e) / scale(e)));
}

async function* stream(frames: CubeFrame[]): AsyncGenerator<CubeFrame> {
  yield* frames;
}

describe('statisticalInit', () => {
  beforeAll(async () => {
    await initEngine({ backend: 'wasm' });
  });

  it('matches a direct float64 computation: z-score, centre and RX, on normal pixels only', async () => {
    const frames = makeFrames(3, 5, 6, 1);
    let passes = 0;
    const init = await statisticalInit(
      () => {
        passes++;
        return stream(frames);
      },
      trainingStages,
      {
        preprocess: { bandpass: { minNm: 700 }, unitNorm: true },
        hidden: 16,
        rep: 4,
        seed: 3,
        classes: new ClassMap([1, 2], [ANOMALY]),
        rx: true,
      },
    );
    expect(passes).toBe(2); // one streamed pass per stage that needs statistics
    const { pre, raw } = reference(frames);
    expect(init.pixels).toBe(pre.length);
    expect(init.channels).toBe(KEPT.length);

    const { mean, std } = meanStd(pre);
    expect(worstError(init.zscore.mean, mean, () => 1)).toBeLessThan(2e-6);
    expect(worstError(init.zscore.std, std, (s) => s)).toBeLessThan(1e-5);

    // Centre: mean over normal pixels of W2·relu(W1·(x-μ)/σ + b1), in float64.
    const { W1, b1, W2, hidden, rep } = init.project;
    const C = KEPT.length;
    const center = new Array<number>(rep).fill(0);
    for (const x of pre) {
      const z = x.map((v, j) => (v - (init.zscore.mean[j] as number)) / (init.zscore.std[j] as number));
      const h = Array.from({ length: hidden }, (_, k) => {
        let s = b1[k] as number;
        for (let j = 0; j < C; j++) s += (W1[k * C + j] as number) * (z[j] as number);
        return Math.max(0, s);
      });
      for (let d = 0; d < rep; d++) {
        let s = 0;
        for (let k = 0; k < hidden; k++) s += (W2[d * hidden + k] as number) * (h[k] as number);
        center[d] = (center[d] as number) + s / pre.length;
      }
    }
    const scale = Math.max(...center.map(Math.abs));
    expect(worstError(init.center, center, () => scale)).toBeLessThan(1e-4);

    // RX on the raw bands of normal pixels.
    const rawStats = meanStd(raw);
    expect(init.rx?.bands).toBe(BANDS);
    expect(worstError(init.rx?.mean ?? [], rawStats.mean, (m) => m)).toBeLessThan(1e-9);

    // The reservoir holds every preprocessed normal pixel (capacity not reached).
    expect(init.reservoir.count).toBe(pre.length);
    const kept = init.reservoir.pixels();
    const firstRow = pre[0] as number[];
    expect(worstError(kept.subarray(0, firstRow.length), firstRow, () => 1)).toBeLessThan(1e-6);
  });

  it('keeps every pixel without classes, and the same seed gives the same initial network', async () => {
    const frames = makeFrames(2, 4, 4, 2);
    const options = { preprocess: { unitNorm: false }, hidden: 8, rep: 3, seed: 9 };
    const a = await statisticalInit(() => stream(frames), trainingStages, options);
    const b = await statisticalInit(() => stream(frames), trainingStages, options);
    expect(a.pixels).toBe(32);
    expect(a.channels).toBe(BANDS);
    expect(a.rx).toBeUndefined();
    expect([...a.project.W1]).toEqual([...b.project.W1]);
    expect([...a.center]).toEqual([...b.center]);
    // the anomalies' absurd values are in: σ of band 1 is huge
    expect(a.zscore.std[1]).toBeGreaterThan(1e5);
  });

  it('samples at most maxTrainPixels, uniformly and reproducibly', async () => {
    const frames = makeFrames(4, 10, 10, 3);
    const options = { preprocess: { unitNorm: false }, hidden: 8, rep: 3, maxTrainPixels: 50, seed: 1 };
    const a = await statisticalInit(() => stream(frames), trainingStages, options);
    const b = await statisticalInit(() => stream(frames), trainingStages, options);
    expect(a.pixels).toBe(400);
    expect(a.reservoir.count).toBe(50);
    expect([...a.reservoir.pixels()]).toEqual([...b.reservoir.pixels()]);
    // Without unit norm the kept pixels are raw pixels: find which frame each came from.
    const origin = new Map<number, number>();
    frames.forEach((frame, f) => {
      for (let p = 0; p < 100; p++) origin.set(frame.data[p * BANDS + 1] as number, f);
    });
    const kept = a.reservoir.pixels();
    const fromFrame = [0, 0, 0, 0];
    for (let i = 0; i < 50; i++) {
      const f = origin.get(kept[i * BANDS + 1] as number) as number;
      fromFrame[f] = (fromFrame[f] as number) + 1;
    }
    expect(fromFrame.every((n) => n >= 4)).toBe(true); // every quarter of the stream is represented
    const c = await statisticalInit(() => stream(frames), trainingStages, { ...options, reservoirSeed: 77 });
    expect([...c.reservoir.pixels()]).not.toEqual([...a.reservoir.pixels()]);
  });

  it('fails with a OptionError naming normalClassIds when no pixel is normal', async () => {
    const frames = makeFrames(1, 3, 3, 4);
    const run = statisticalInit(() => stream(frames), trainingStages, {
      preprocess: { unitNorm: true },
      classes: new ClassMap([9]),
    });
    await expect(run).rejects.toThrow(OptionError);
    await expect(
      statisticalInit(() => stream(frames), trainingStages, {
        preprocess: { unitNorm: true },
        classes: new ClassMap([9]),
      }),
    ).rejects.toThrow(/normalClassIds.*no training pixel/);
  });
});
