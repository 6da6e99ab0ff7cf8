import { TestScheduler } from 'rxjs/testing';
import { expect } from 'vitest';
import { type CubeFrame, createFrame } from '../../src/core/frame.js';
import { disposeTensorFrame, type TensorFrame } from '../../src/core/tensor-frame.js';

/** Options of {@link cube}. */
export interface CubeOptions {
  cameraId?: string;
  frameId?: number;
  /** Default 700, 710, … nm. */
  wavelengths?: readonly number[];
  wavelengthUnits?: 'nm' | 'index';
  labels?: Uint8Array;
}

/** A one-row frame whose pixels are `rows` (one spectrum each), for operator tests. */
export function cube(rows: readonly (readonly number[])[], options: CubeOptions = {}): CubeFrame {
  const bands = rows[0]?.length ?? 0;
  return createFrame({
    cameraId: options.cameraId ?? 'cam0',
    frameId: options.frameId ?? 0,
    capturedAt: 1_700_000_000_000,
    height: 1,
    width: rows.length,
    bands,
    wavelengths: options.wavelengths ?? Array.from({ length: bands }, (_, i) => 700 + 10 * i),
    wavelengthUnits: options.wavelengthUnits ?? 'nm',
    data: Float32Array.from(rows.flat()),
    ...(options.labels === undefined ? {} : { labels: options.labels }),
  });
}

/** The frame's pixels as rows rounded to `digits` decimals; disposes the frame. */
export function plainPixels(frame: TensorFrame, digits = 4): number[][] {
  const [n, c] = frame.pixels.shape;
  const values = frame.pixels.dataSync();
  disposeTensorFrame(frame);
  const scale = 10 ** digits;
  return Array.from({ length: n }, (_, p) =>
    Array.from(values.subarray(p * c, (p + 1) * c), (v) => Math.round(v * scale) / scale + 0),
  );
}

/** A TestScheduler that compares with vitest's deep equality. */
export function marbles(): TestScheduler {
  return new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
}
