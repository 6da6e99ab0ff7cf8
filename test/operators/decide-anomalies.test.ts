import fc from 'fast-check';
import { from, lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { BlockMismatchError, decideAnomalies } from '../../operators/decide-anomalies.js';
import { encodeDecision } from '../../src/core/decision.js';
import { OptionError } from '../../src/core/options.js';
import type { ThresholdedFrame } from '../../src/core/scored-frame.js';
import { grid, testScheduler, thresholded } from './scored-frame-fixtures.js';

const now = () => 1_700_000_000_500;

/** A frame from a picture, cut into blocks of `rows` rows (`#` scores 10, `.` 0, τ 5). */
function blocks(picture: readonly string[], rows: number, frameId = 0, camera = 'cam0'): ThresholdedFrame[] {
  const { width } = grid(picture);
  const out: ThresholdedFrame[] = [];
  for (let r = 0; r < picture.length; r += rows) {
    const part = grid(picture.slice(r, r + rows));
    out.push(
      thresholded(part.scores, 5, {
        cameraId: camera,
        frameId,
        rowOffset: r,
        totalRows: picture.length,
        height: part.height,
        width,
      }),
    );
  }
  return out;
}

const decide = (frames: ThresholdedFrame[], options: Parameters<typeof decideAnomalies>[0]) =>
  lastValueFrom(from(frames).pipe(decideAnomalies({ now, ...options }), toArray()));

describe('decideAnomalies', () => {
  it('builds the docs/wire-format.md §2 decision for a block', async () => {
    const frame = thresholded([1, 7, 0, 5, 9, 2], 5, {
      cameraId: 'belt',
      frameId: 3,
      rowOffset: 10,
      totalRows: 12,
      height: 2,
    });
    const [out] = await decide([frame], { modelVersion: 'v7' });
    expect(Array.from(out!.mask)).toEqual([0, 1, 0, 1, 1, 0]); // score = τ is anomalous
    expect(out!.decision).toEqual({
      schema: 'cubestream.decision/1',
      cameraId: 'belt',
      frameId: 3,
      rowOffset: 10,
      capturedAt: frame.capturedAt,
      decidedAt: 1_700_000_000_500,
      anomalous: true,
      anomalousPixels: 3,
      pixels: 6,
      maxScore: expect.closeTo(9, 6),
      threshold: 5,
      blobs: [{ x: 0, y: 10, w: 2, h: 2, area: 3, maxScore: expect.closeTo(9, 6) }],
      modelVersion: 'v7',
    });
    expect(JSON.parse(encodeDecision(out!.decision)).blobs[0].y).toBe(10);
  });

  it('judges the frame by minPixels, or by minArea when set', async () => {
    const picture = ['#..#', '....', '##..'];
    const [frame] = blocks(picture, 3);
    const verdict = async (options: Parameters<typeof decideAnomalies>[0]) =>
      (await decide([frame!], options))[0]!.decision.anomalous;
    expect(await verdict({ minPixels: 4 })).toBe(true);
    expect(await verdict({ minPixels: 5 })).toBe(false);
    expect(await verdict({ minArea: 2 })).toBe(true);
    expect(await verdict({ minArea: 3 })).toBe(false);
    expect(await verdict({ minArea: 3, minPixels: 1 })).toBe(false);
    expect((await decide([frame!], {}))[0]!.decision.modelVersion).toBe('unknown');
  });

  it('uses 4- or 8-connectivity for blobs', async () => {
    const [frame] = blocks(['#.', '.#'], 2);
    expect((await decide([frame!], { connectivity: 8 }))[0]!.decision.blobs).toHaveLength(1);
    expect((await decide([frame!], { connectivity: 4, minArea: 2 }))[0]!.decision).toMatchObject({
      anomalous: false,
      blobs: [{}, {}],
    });
  });

  it("sees a blob crossing block edges as one blob in 'frame' mode, one per block in 'block' mode", async () => {
    const picture = ['......', '..##..', '..##..', '..##..', '......'];
    const parts = blocks(picture, 2);
    const perBlock = await decide(parts, { assemble: 'block', minArea: 6 });
    expect(perBlock.map((d) => d.decision.blobs.map((b) => [b.y, b.h, b.area]))).toEqual([
      [[1, 1, 2]],
      [[2, 2, 4]],
      [],
    ]);
    expect(perBlock.some((d) => d.decision.anomalous)).toBe(false);
    const [whole, ...rest] = await decide(parts, { assemble: 'frame', minArea: 6 });
    expect(rest).toEqual([]);
    expect(whole!.decision).toMatchObject({ rowOffset: 0, pixels: 30, anomalous: true, anomalousPixels: 6 });
    expect(whole!.decision.blobs).toEqual([{ x: 2, y: 1, w: 2, h: 3, area: 6, maxScore: 10 }]);
    expect(whole!.missingRows).toBe(0);
    expect(whole!.height).toBe(5);
  });

  it("flushes a frame whose blocks stopped when a newer frame completes, and the rest at completion ('frame')", async () => {
    const [a0] = blocks(['#.', '..', '..'], 1, 0);
    const [b0, b1] = blocks(['..', '.#'], 1, 1);
    const [c0] = blocks(['##', '..'], 1, 2);
    const out = await decide([a0!, b0!, b1!, c0!], { assemble: 'frame' });
    expect(out.map((d) => [d.frameId, d.missingRows, d.decision.pixels, d.decision.anomalousPixels])).toEqual(
      [
        [0, 2, 2, 1],
        [1, 0, 4, 1],
        [2, 1, 2, 2],
      ],
    );
  });

  it("carries each block's release to its decision; an assembled frame's releases all its blocks ('frame')", async () => {
    const released: string[] = [];
    const lent = (block: ThresholdedFrame): ThresholdedFrame => ({
      ...block,
      release: () => released.push(`${block.frameId}:${block.rowOffset}`),
      spectra: {
        data: new Float32Array(0),
        bands: 0,
        wavelengths: new Float32Array(0),
        wavelengthUnits: 'nm',
      },
    });
    const [b0, b1] = blocks(['#.', '..'], 1, 0).map(lent) as [ThresholdedFrame, ThresholdedFrame];
    const [perBlock] = await decide([b0], {});
    expect(perBlock?.release).toBe(b0.release);
    expect(perBlock?.spectra).toBe(b0.spectra);
    const [whole] = await decide([b0, b1], { assemble: 'frame' });
    expect(whole?.spectra).toBeUndefined(); // the first block's spectra are not the frame's
    expect(released).toEqual([]);
    whole?.release?.();
    expect(released).toEqual(['0:0', '0:1']);

    // Blocks still waiting for their frame when the stream fails are released then.
    released.length = 0;
    const [c0] = blocks(['#.', '..', '..'], 1, 1).map(lent) as [ThresholdedFrame];
    const bad = thresholded([0, 0, 0], 5, { frameId: 1, rowOffset: 1, totalRows: 3 });
    await expect(decide([c0, bad], { assemble: 'frame' })).rejects.toThrow(BlockMismatchError);
    expect(released).toEqual(['1:0']);
  });

  it('keeps order, completes and passes errors through (marbles)', () => {
    const [x, y] = blocks(['#.', '..'], 1) as [ThresholdedFrame, ThresholdedFrame];
    testScheduler().run(({ cold, expectObservable }) => {
      const blockMode = cold('-x-y-|', { x, y }).pipe(decideAnomalies({ now }));
      expectObservable(blockMode.pipe(toArray())).toBe('-----(a|)', {
        a: [expect.objectContaining({ rowOffset: 0 }), expect.objectContaining({ rowOffset: 1 })],
      });
      const frameMode = cold('-x-y-|', { x, y }).pipe(decideAnomalies({ now, assemble: 'frame' }));
      expectObservable(frameMode).toBe('---a-|', { a: expect.objectContaining({ frameId: 0, height: 2 }) });
      const partial = cold('-x-#', { x }, new Error('gone')).pipe(
        decideAnomalies({ now, assemble: 'frame' }),
      );
      expectObservable(partial).toBe('---#', {}, new Error('gone'));
      const incomplete = cold('-x-|', { x }).pipe(decideAnomalies({ now, assemble: 'frame' }));
      expectObservable(incomplete).toBe('---(a|)', { a: expect.objectContaining({ missingRows: 1 }) });
    });
  });

  it('errors on blocks of one frame with different widths', async () => {
    const a = thresholded([0, 0], 5, { rowOffset: 0, totalRows: 2 });
    const b = thresholded([0, 0, 0], 5, { rowOffset: 1, totalRows: 2 });
    await expect(decide([a, b], { assemble: 'frame' })).rejects.toThrow(BlockMismatchError);
  });

  it('rejects bad options when built', () => {
    expect(() => decideAnomalies({ minPixels: 0 })).toThrow(OptionError);
    expect(() => decideAnomalies({ minArea: 1.5 })).toThrow(/decideAnomalies\.minArea/);
    expect(() => decideAnomalies({ connectivity: 6 as 4 })).toThrow(/connectivity/);
    expect(() => decideAnomalies({ assemble: 'cube' as 'frame' })).toThrow(/assemble/);
  });

  it('counts in anomalousPixels exactly the mask pixels, in both modes (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 9 }),
        fc.integer({ min: 1, max: 9 }),
        fc.integer({ min: 1, max: 4 }),
        fc.infiniteStream(fc.float({ min: 0, max: 10, noNaN: true })),
        async (height, width, rows, values) => {
          const picture = Array.from({ length: height }, () =>
            Array.from({ length: width }, () => (values.next().value > 7 ? '#' : '.')).join(''),
          );
          for (const assemble of ['block', 'frame'] as const) {
            const out = await decide(blocks(picture, rows), { assemble });
            for (const d of out) {
              const masked = d.mask.reduce((n, v) => n + v, 0);
              expect(d.decision.anomalousPixels).toBe(masked);
              expect(d.decision.blobs.reduce((n, b) => n + b.area, 0)).toBe(masked);
            }
            const total = out.reduce((n, d) => n + d.decision.anomalousPixels, 0);
            expect(total).toBe(picture.join('').split('#').length - 1);
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});
