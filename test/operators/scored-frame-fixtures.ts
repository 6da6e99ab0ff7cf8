import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { TestScheduler } from 'rxjs/testing';
import { expect } from 'vitest';
import type { ScoredFrame, ThresholdedFrame } from '../../src/core/scored-frame.js';
import { decodeSafetensors, toFloat32 } from '../../src/io/safetensors.js';

/** Identity and geometry of a test frame; scores given separately. */
export interface ScoredInit {
  cameraId?: string;
  frameId?: number;
  height?: number;
  width?: number;
  rowOffset?: number;
  totalRows?: number;
  capturedAt?: number;
  modelVersion?: string;
}

/** A scored frame (or block) of `scores`, one row by default. */
export function scored(scores: ArrayLike<number>, init: ScoredInit = {}): ScoredFrame {
  const height = init.height ?? 1;
  const width = init.width ?? scores.length / height;
  if (!Number.isInteger(width) || width * height !== scores.length)
    throw new Error('scores do not fit height');
  return {
    cameraId: init.cameraId ?? 'cam0',
    frameId: init.frameId ?? 0,
    rowOffset: init.rowOffset ?? 0,
    totalRows: init.totalRows ?? (init.rowOffset ?? 0) + height,
    capturedAt: init.capturedAt ?? 1_700_000_000_000,
    timings: {},
    height,
    width,
    scores: Float32Array.from(scores),
    ...(init.modelVersion === undefined ? {} : { modelVersion: init.modelVersion }),
  };
}

/** A thresholded frame: {@link scored} plus τ. */
export function thresholded(
  scores: ArrayLike<number>,
  threshold: number,
  init: ScoredInit = {},
): ThresholdedFrame {
  return { ...scored(scores, init), threshold };
}

/** A row-major grid from a picture: `#` = `high`, `.` = `low`, one string per row. */
export function grid(
  rows: readonly string[],
  high = 10,
  low = 0,
): { scores: Float32Array; height: number; width: number } {
  const width = rows[0]?.length ?? 0;
  const scores = Float32Array.from(rows.join('').split(''), (c) => (c === '#' ? high : low));
  return { scores, height: rows.length, width };
}

/** A TestScheduler asserting with vitest's deep equality. */
export function testScheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
}

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The golden safetensors file: test/fixtures/golden/ if there, else ../shared/golden; undefined when neither. */
export function goldenPath(): string | undefined {
  return [
    path.join(repoRoot, 'test/fixtures/golden/deep_svdd_golden.safetensors'),
    path.resolve(repoRoot, '../shared/golden/deep_svdd_golden.safetensors'),
  ].find((p) => existsSync(p));
}

/** Reads named tensors (as float32, with shapes) from the golden file. */
export function readGolden(
  file: string,
  names: readonly string[],
): Map<string, { data: Float32Array; shape: readonly number[] }> {
  const { tensors } = decodeSafetensors(new Uint8Array(readFileSync(file)));
  return new Map(
    names.map((name) => {
      const tensor = tensors.get(name);
      if (tensor === undefined) throw new Error(`golden tensor ${name} is missing`);
      return [name, { data: toFloat32(tensor), shape: tensor.shape }];
    }),
  );
}
