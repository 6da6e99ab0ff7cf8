import { describe, expect, it } from 'vitest';
import type { RowsReady } from '../../../src/core/rows-ready.js';
import { EarlyRowScorer, type ScoringSnapshot } from '../../../src/scoring/onnx/early-row-scorer.js';
import type { Uint16CubeFrame } from '../../../src/scoring/onnx/uint16-frame.js';

const WIDTH = 10;
const HEIGHT = 8;
const WAVELENGTHS = Float32Array.of(700, 710);

function rowsOf(data: Uint16Array, rows: number, cameraId = 'cam'): RowsReady {
  return {
    cameraId,
    height: HEIGHT,
    width: WIDTH,
    bands: 2,
    wavelengths: WAVELENGTHS,
    wavelengthUnits: 'nm',
    data,
    rows,
  };
}

function frameOf(data: Uint16Array, cameraId = 'cam'): Uint16CubeFrame {
  const { rows: _rows, ...block } = rowsOf(data, HEIGHT, cameraId);
  return { ...block, data, frameId: 0, rowOffset: 0, totalRows: HEIGHT, capturedAt: 0, timings: {} };
}

/** A scorer whose runs score a pixel as its first band and record what they were asked to do. */
function scorer(maxBlocks?: number) {
  const runs: { data: Uint16Array | Float32Array; from: number; to: number }[] = [];
  const snapshot: ScoringSnapshot = { center: Float32Array.of(0), tau: 1 };
  const early = new EarlyRowScorer({
    run: async (rows, from, to) => {
      runs.push({ data: rows.data, from, to });
      const scores = Float32Array.from({ length: to - from }, (_, i) => rows.data[(from + i) * 2] ?? 0);
      return { scores, chunks: [{ zsumNormal: Float32Array.of(to - from), nNormal: to - from }] };
    },
    snapshot: () => snapshot,
    chunkPixels: () => 20, // two rows
    ...(maxBlocks === undefined ? {} : { maxBlocks }),
  });
  return { early, runs, snapshot };
}

const block = (seed: number): Uint16Array =>
  Uint16Array.from({ length: HEIGHT * WIDTH * 2 }, (_, i) => seed + i);
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('EarlyRowScorer', () => {
  it('runs whole chunks of the grid as rows come in, the last short one once the block is complete', async () => {
    const { early, runs, snapshot } = scorer();
    const data = block(1);
    early.offer(rowsOf(data, 1)); // 10 px: less than a chunk
    early.offer(rowsOf(data, 3)); // 30 px: one chunk (20) runs
    await settle();
    early.offer(rowsOf(data, 7)); // 70 px: up to 60
    await settle();
    expect(runs.map((r) => [r.from, r.to])).toEqual([
      [0, 20],
      [20, 60],
    ]);
    early.offer(rowsOf(data, 8)); // complete: the last 20 px
    await settle();
    expect(runs.at(-1)).toMatchObject({ from: 60, to: 80 });
    await early.pause();
    const done = early.claim(frameOf(data), snapshot);
    expect(done?.pixels).toBe(80);
    expect(Array.from(done?.scores ?? [])).toEqual(Array.from({ length: 80 }, (_, p) => 1 + 2 * p));
    expect(done?.chunks.map((c) => c.nNormal)).toEqual([20, 40, 20]);
    expect(early.claim(frameOf(data), snapshot)).toBeUndefined(); // claimed once
  });

  it('starts nothing while paused, and hands over nothing scored under another snapshot', async () => {
    const { early, runs, snapshot } = scorer();
    const data = block(2);
    await early.pause();
    early.offer(rowsOf(data, 4));
    await settle();
    expect(runs).toEqual([]);
    early.resume();
    await settle();
    expect(runs).toHaveLength(1);
    await early.pause();
    expect(early.claim(frameOf(data), { ...snapshot, tau: 2 })).toBeUndefined();
  });

  it('forgets the oldest block beyond maxBlocks', async () => {
    const { early, snapshot } = scorer(2);
    const [a, b, c] = [block(3), block(4), block(5)];
    for (const data of [a, b, c]) {
      early.offer(rowsOf(data, HEIGHT));
      await settle();
    }
    await early.pause();
    expect(early.claim(frameOf(a), snapshot)).toBeUndefined();
    expect(early.claim(frameOf(b), snapshot)?.pixels).toBe(80);
    expect(early.claim(frameOf(c), snapshot)?.pixels).toBe(80);
  });

  it("forgets a camera's blocks begun before the one claimed (dropped on the way), not another camera's", async () => {
    const { early, snapshot } = scorer();
    const [dropped, other, next] = [block(3), block(4), block(5)];
    early.offer(rowsOf(dropped, HEIGHT));
    await settle();
    early.offer(rowsOf(other, HEIGHT, 'other'));
    await settle();
    early.offer(rowsOf(next, HEIGHT));
    await settle();
    await early.pause();
    expect(early.claim(frameOf(next), snapshot)?.pixels).toBe(80);
    expect(early.claim(frameOf(dropped), snapshot)).toBeUndefined();
    expect(early.claim(frameOf(other, 'other'), snapshot)?.pixels).toBe(80);
    expect(early.earlyPixels).toBe(3 * 80);
  });
});
