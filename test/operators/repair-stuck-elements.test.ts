import { from, lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { MIN_STUCK_ROWS } from '../../operators/internal/stuck-elements.js';
import { repairStuckElements } from '../../operators/repair-stuck-elements.js';
import { type CubeFrame, createFrame } from '../../src/core/frame.js';

const W = 6;
const B = 3;
const H = 16;

/** A block whose value at (row, col, band) is 100 + 10·band + noise; `stuck` elements hold `value` from `fromRow` on. */
function block(
  frameId: number,
  stuck: readonly { col: number; band: number; value: number; fromRow?: number }[] = [],
): CubeFrame {
  const data = new Float32Array(H * W * B);
  for (let row = 0; row < H; row++)
    for (let col = 0; col < W; col++)
      for (let band = 0; band < B; band++)
        data[(row * W + col) * B + band] = 100 + 10 * band + ((row * 7 + col * 3 + band + frameId * 5) % 11);
  for (const s of stuck)
    for (let row = s.fromRow ?? 0; row < H; row++) data[(row * W + s.col) * B + s.band] = s.value;
  return createFrame({ frameId, height: H, width: W, bands: B, data });
}

const at = (f: CubeFrame, row: number, col: number, band: number) => f.data[(row * W + col) * B + band]!;

describe('repairStuckElements', () => {
  it('passes healthy blocks through untouched (the same object)', async () => {
    const frames = [block(0), block(1)];
    const out = await lastValueFrom(from(frames).pipe(repairStuckElements(), toArray()));
    expect(out[0]).toBe(frames[0]);
    expect(out[1]).toBe(frames[1]);
  });

  it('fills a dead element from the bands beside it, from the row it froze at, and reports the count', async () => {
    const counts: number[] = [];
    const frames = [
      block(0, [{ col: 2, band: 1, value: 0, fromRow: 5 }]),
      block(1, [{ col: 2, band: 1, value: 0 }]),
    ];
    const out = await lastValueFrom(
      from(frames).pipe(repairStuckElements({ onDefects: (_c, n) => counts.push(n) }), toArray()),
    );
    const first = out[0]!;
    expect(first).not.toBe(frames[0]);
    expect(first.data).not.toBe(frames[0]!.data);
    expect(frames[0]!.data[(5 * W + 2) * B + 1]).toBe(0); // the source's buffer is not written
    expect(at(first, 4, 2, 1)).toBe(at(frames[0]!, 4, 2, 1)); // before it froze: as captured
    for (let row = 5; row < H; row++) {
      expect(at(first, row, 2, 1)).toBe((at(frames[0]!, row, 2, 0) + at(frames[0]!, row, 2, 2)) / 2);
    }
    expect(at(first, 7, 2, 0)).toBe(at(frames[0]!, 7, 2, 0)); // other bands of the column untouched
    for (let row = 0; row < H; row++) expect(at(out[1]!, row, 2, 1)).toBeGreaterThan(100);
    expect(counts).toEqual([1]);
  });

  it('leaves a band flat across the whole line alone (dark or saturated everywhere is not a defect)', async () => {
    const flat = Array.from({ length: W }, (_, col) => ({ col, band: 0, value: 4095 }));
    const frames = [block(0, flat)];
    const out = await lastValueFrom(from(frames).pipe(repairStuckElements(), toArray()));
    expect(out[0]).toBe(frames[0]);
  });

  it('needs MIN_STUCK_ROWS frozen rows, and trusts an element again after releaseBlocks live blocks', async () => {
    const counts: number[] = [];
    const short = block(0, [{ col: 4, band: 2, value: 7, fromRow: H - MIN_STUCK_ROWS + 1 }]);
    const frames = [short, block(1, [{ col: 4, band: 2, value: 7 }]), block(2), block(3), block(4)];
    const out = await lastValueFrom(
      from(frames).pipe(
        repairStuckElements({ releaseBlocks: 2, onDefects: (_c, n) => counts.push(n) }),
        toArray(),
      ),
    );
    expect(out[0]).toBe(short);
    expect(out[1]).not.toBe(frames[1]);
    // Alive again: still repaired in block 2 (1 live block), trusted from block 3 on.
    expect(out[2]).not.toBe(frames[2]);
    expect(out[3]).toBe(frames[3]);
    expect(counts).toEqual([1, 0]);
  });
});
