/**
 * Synthetic decided blocks for the viewer tests: a smooth, moving belt-like background in
 * 61 bands (430-910 nm), an optional bright red foreign body, and the decision built directly
 * (scores, mask, blobs) without any model.
 */
import { DECISION_SCHEMA, type DecidedFrame } from '../../../src/core/decision.js';
import { type CubeFrame, createFrame } from '../../../src/core/frame.js';

/** A rectangle in block rows/columns (y relative to the block). */
export interface SyntheticAnomaly {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** Options of {@link syntheticBlock}. */
export interface SyntheticBlockOptions {
  cameraId?: string;
  /** Index of the block in the camera's stream (drives frameId, rowOffset and the belt motion). */
  index: number;
  /** Rows per block (default 16). */
  height?: number;
  /** Pixels per row (default 128). */
  width?: number;
  /** Bands (default 61, 430-910 nm). */
  bands?: number;
  /** Blocks per frame (default 4): frameId = floor(index / blocksPerFrame). */
  blocksPerFrame?: number;
  /** A foreign body inside the block, scored above the threshold. */
  anomaly?: SyntheticAnomaly;
  /** Threshold τ (default 1). */
  threshold?: number;
  /** Wavelengths in nm (default) or plain band indices. */
  units?: 'nm' | 'index';
  /** Tint of the belt: multiplies the spectrum's slope (default 1). */
  tint?: number;
  /** Capture time of block 0, epoch ms (default 1.7e12); block i is captured 50 ms later each. */
  epoch?: number;
}

/** A frame and its decision, as the service hands them to `ViewerHub.push`. */
export interface SyntheticBlock {
  frame: CubeFrame;
  decided: DecidedFrame;
}

/** Deterministic pseudo-noise in [0, 1) from integer coordinates. */
function hashNoise(a: number, b: number): number {
  const x = Math.sin(a * 12.9898 + b * 78.233) * 43758.5453;
  return x - Math.floor(x);
}

/**
 * One decided block of a synthetic line-scan belt.
 *
 * @example
 * ```ts
 * const { frame, decided } = syntheticBlock({ index: 3, anomaly: { x: 40, y: 4, w: 10, h: 6 } });
 * hub.push({ frame, decided });
 * ```
 */
export function syntheticBlock(options: SyntheticBlockOptions): SyntheticBlock {
  const height = options.height ?? 16;
  const width = options.width ?? 128;
  const bands = options.bands ?? 61;
  const perFrame = options.blocksPerFrame ?? 4;
  const threshold = options.threshold ?? 1;
  const tint = options.tint ?? 1;
  const cameraId = options.cameraId ?? 'cam-a';
  const frameId = Math.floor(options.index / perFrame);
  const rowOffset = (options.index % perFrame) * height;
  const wavelengths = Array.from({ length: bands }, (_, b) => 430 + (480 * b) / Math.max(1, bands - 1));
  const data = new Float32Array(height * width * bands);
  const scores = new Float32Array(height * width);
  const mask = new Uint8Array(height * width);
  const a = options.anomaly;
  let maxScore = 0;
  let anomalousPixels = 0;
  for (let y = 0; y < height; y++) {
    const row = options.index * height + y;
    for (let x = 0; x < width; x++) {
      const p = y * width + x;
      const inside = a !== undefined && x >= a.x && x < a.x + a.w && y >= a.y && y < a.y + a.h;
      const shade =
        0.75 +
        0.15 * Math.sin(2 * Math.PI * (x / 37 + row / 53)) +
        0.06 * Math.cos((2 * Math.PI * row) / 21) +
        0.04 * hashNoise(x, row);
      for (let b = 0; b < bands; b++) {
        const t = b / Math.max(1, bands - 1);
        const belt = (0.35 + 0.12 * tint * Math.sin(Math.PI * t) + 0.05 * tint * t) * shade;
        const body = 0.15 + 0.9 * Math.exp(-(((wavelengths[b] as number) - 640) ** 2) / (2 * 40 ** 2));
        data[p * bands + b] = inside ? body : belt;
      }
      const s = inside ? 2.2 + 0.3 * hashNoise(row, x) : 0.2 + 0.45 * hashNoise(x + 7, row);
      scores[p] = s;
      if (s >= threshold) {
        mask[p] = 1;
        anomalousPixels += 1;
      }
      if (s > maxScore) maxScore = s;
    }
  }
  const capturedAt = (options.epoch ?? 1_700_000_000_000) + options.index * 50;
  const frame = createFrame({
    cameraId,
    frameId,
    rowOffset,
    totalRows: perFrame * height,
    capturedAt,
    height,
    width,
    bands,
    wavelengths: options.units === 'index' ? wavelengths.map((_, b) => b) : wavelengths,
    wavelengthUnits: options.units ?? 'nm',
    data,
  });
  const blobs =
    a === undefined ? [] : [{ x: a.x, y: rowOffset + a.y, w: a.w, h: a.h, area: a.w * a.h, maxScore }];
  const decided: DecidedFrame = {
    cameraId,
    frameId,
    rowOffset,
    totalRows: perFrame * height,
    capturedAt,
    timings: {},
    height,
    width,
    scores,
    threshold,
    modelVersion: 'synthetic-1',
    mask,
    missingRows: 0,
    decision: {
      schema: DECISION_SCHEMA,
      cameraId,
      frameId,
      rowOffset,
      capturedAt,
      decidedAt: capturedAt + 4 + (options.index % 10),
      anomalous: blobs.length > 0,
      anomalousPixels,
      pixels: height * width,
      maxScore,
      threshold,
      blobs,
      modelVersion: 'synthetic-1',
    },
  };
  return { frame, decided };
}
