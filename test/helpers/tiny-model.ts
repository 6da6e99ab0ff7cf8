import { type CubeFrame, createFrame } from '../../src/core/frame.js';
import type { ModelBundle } from '../../src/model/bundle.js';
import { type DeepSvddParams, initProjection } from '../../src/model/deep-svdd-params.js';
import { deepSvddToBundle } from '../../src/model/detector-bundle.js';
import { RunningStats } from '../../src/model/running-stats.js';
import { seededRandom } from '../../src/model/seeded-random.js';

/** Wavelengths of the synthetic test sensor: 8 bands, 700-840 nm. */
export const TINY_WAVELENGTHS = Float32Array.from({ length: 8 }, (_, i) => 700 + 20 * i);

/** Options of {@link tinyFrame}. */
export interface TinyFrameOptions {
  cameraId?: string;
  frameId?: number;
  height?: number;
  width?: number;
  /** Top-left corner and side of a square foreign body with a different spectrum. */
  anomaly?: { row: number; col: number; size: number };
  seed?: number;
}

/** A belt-like frame: one smooth spectrum with noise, optionally a square anomaly (label 3, else 1). */
export function tinyFrame(options: TinyFrameOptions = {}): CubeFrame {
  const { height = 16, width = 32, frameId = 0, cameraId = 'cam0', anomaly } = options;
  const random = seededRandom(options.seed ?? frameId + 1);
  const bands = TINY_WAVELENGTHS.length;
  const data = new Float32Array(height * width * bands);
  const labels = new Uint8Array(height * width).fill(1);
  for (let p = 0; p < height * width; p++) {
    const row = Math.floor(p / width);
    const col = p % width;
    const inside =
      anomaly !== undefined &&
      row >= anomaly.row &&
      row < anomaly.row + anomaly.size &&
      col >= anomaly.col &&
      col < anomaly.col + anomaly.size;
    if (inside) labels[p] = 3;
    const brightness = 1 + 0.1 * (random() - 0.5);
    for (let b = 0; b < bands; b++) {
      const base = inside ? 1.5 - 0.12 * b : 0.5 + 0.05 * b;
      data[p * bands + b] = base * brightness + 0.01 * (random() - 0.5);
    }
  }
  return createFrame({
    cameraId,
    frameId,
    height,
    width,
    bands,
    wavelengths: TINY_WAVELENGTHS,
    data,
    labels,
    capturedAt: 1_700_000_000_000 + frameId,
  });
}

function embed(params: DeepSvddParams, pixel: Float32Array): Float32Array {
  const { W1, b1, W2, hidden, rep } = params.project;
  const channels = pixel.length;
  const x = pixel.map((v, c) => (v - (params.zscore.mean[c] ?? 0)) / (params.zscore.std[c] ?? 1));
  const h = new Float32Array(hidden);
  for (let j = 0; j < hidden; j++) {
    let sum = b1[j] ?? 0;
    for (let c = 0; c < channels; c++) sum += (W1[j * channels + c] ?? 0) * (x[c] ?? 0);
    h[j] = Math.max(0, sum);
  }
  const z = new Float32Array(rep);
  for (let d = 0; d < rep; d++) {
    let sum = 0;
    for (let j = 0; j < hidden; j++) sum += (W2[d * hidden + j] ?? 0) * (h[j] ?? 0);
    z[d] = sum;
  }
  return z;
}

/**
 * A small Deep SVDD bundle fitted statistically (no gradient phase) on clean tiny frames: z-score
 * over the training pixels, random projection, centre = mean embedding, τ = max training score × 1.5.
 * Enough for pipeline and service tests; not a trained model.
 */
export function tinyDeepSvddBundle(trainingFrames = 4, version = 'tiny-1'): ModelBundle {
  const frames = Array.from({ length: trainingFrames }, (_, i) => tinyFrame({ frameId: 1000 + i }));
  const bands = TINY_WAVELENGTHS.length;
  const stats = new RunningStats(bands);
  for (const f of frames) stats.add(f.data, bands);
  const project = initProjection(bands, { hidden: 16, rep: 4, seed: 7 });
  const params: DeepSvddParams = {
    wavelengthsNm: TINY_WAVELENGTHS,
    bandpass: { minNm: 700 },
    unitNorm: false,
    zscore: stats.toZscore(),
    project,
    center: new Float32Array(4),
  };
  const center = new Float64Array(4);
  let count = 0;
  for (const f of frames) {
    for (let p = 0; p < f.height * f.width; p++) {
      const z = embed(params, f.data.subarray(p * bands, (p + 1) * bands));
      z.forEach((v, d) => {
        center[d] = (center[d] ?? 0) + v;
      });
      count++;
    }
  }
  const fitted: DeepSvddParams = { ...params, center: Float32Array.from(center, (v) => v / count) };
  let maxScore = 0;
  for (const f of frames) {
    for (let p = 0; p < f.height * f.width; p++) {
      const z = embed(fitted, f.data.subarray(p * bands, (p + 1) * bands));
      let s = 0;
      z.forEach((v, d) => {
        s += (v - (fitted.center[d] ?? 0)) ** 2;
      });
      maxScore = Math.max(maxScore, s);
    }
  }
  return deepSvddToBundle(fitted, {
    version,
    calibration: {
      threshold: maxScore * 1.5,
      quantile: 0.999,
      margin: 1.5,
      scoreQuantiles: { '1': maxScore },
      pixels: count,
    },
    card: { data: 'tiny synthetic frames' },
  });
}
