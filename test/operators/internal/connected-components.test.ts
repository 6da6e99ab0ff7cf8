import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Connectivity, connectedComponents } from '../../../operators/internal/connected-components.js';
import type { Blob } from '../../../src/core/decision.js';
import { grid } from '../scored-frame-fixtures.js';

function blobsOf(rows: readonly string[], connectivity: Connectivity, rowOffset = 0): Blob[] {
  const { scores, height, width } = grid(rows);
  const mask = Uint8Array.from(scores, (s) => (s > 0 ? 1 : 0));
  return connectedComponents(mask, scores, height, width, connectivity, rowOffset);
}

/** Flood fill, the obviously correct way: blob areas and boxes sorted for comparison. */
function floodFill(mask: Uint8Array, height: number, width: number, connectivity: Connectivity): string[] {
  const seen = new Uint8Array(mask.length);
  const found: string[] = [];
  const steps =
    connectivity === 4
      ? [
          [0, 1],
          [1, 0],
          [0, -1],
          [-1, 0],
        ]
      : [
          [0, 1],
          [1, 0],
          [0, -1],
          [-1, 0],
          [1, 1],
          [1, -1],
          [-1, 1],
          [-1, -1],
        ];
  for (let start = 0; start < mask.length; start++) {
    if (!mask[start] || seen[start]) continue;
    const stack = [start];
    seen[start] = 1;
    let area = 0;
    let [x0, y0, x1, y1] = [width, height, -1, -1];
    while (stack.length > 0) {
      const i = stack.pop()!;
      const x = i % width;
      const y = Math.floor(i / width);
      area++;
      [x0, y0, x1, y1] = [Math.min(x0, x), Math.min(y0, y), Math.max(x1, x), Math.max(y1, y)];
      for (const [dx, dy] of steps) {
        const nx = x + dx!;
        const ny = y + dy!;
        const j = ny * width + nx;
        if (nx >= 0 && nx < width && ny >= 0 && ny < height && mask[j] && !seen[j]) {
          seen[j] = 1;
          stack.push(j);
        }
      }
    }
    found.push(`${x0},${y0},${x1 - x0 + 1},${y1 - y0 + 1}:${area}`);
  }
  return found.sort();
}

describe('connectedComponents', () => {
  it('finds a single pixel, with its score', () => {
    const mask = Uint8Array.of(0, 0, 0, 1, 0, 0);
    const scores = Float32Array.of(0, 0, 0, 4.5, 0, 0);
    expect(connectedComponents(mask, scores, 2, 3, 8)).toEqual([
      { x: 0, y: 1, w: 1, h: 1, area: 1, maxScore: 4.5 },
    ]);
  });

  it('joins diagonal neighbours with 8-connectivity only', () => {
    const diagonal = ['#...', '.#..', '..#.', '...#'];
    expect(blobsOf(diagonal, 8)).toEqual([{ x: 0, y: 0, w: 4, h: 4, area: 4, maxScore: 10 }]);
    expect(blobsOf(diagonal, 4)).toHaveLength(4);
    const anti = ['...#', '..#.', '.#..', '#...'];
    expect(blobsOf(anti, 8)).toHaveLength(1);
    expect(blobsOf(anti, 4)).toHaveLength(4);
  });

  it('sees a ring as one blob and leaves its hole out', () => {
    const ring = ['.....', '.###.', '.#.#.', '.###.', '.....'];
    expect(blobsOf(ring, 4)).toEqual([{ x: 1, y: 1, w: 3, h: 3, area: 8, maxScore: 10 }]);
    expect(blobsOf(['###', '#.#', '###', '.#.'], 8)[0]!.area).toBe(9);
  });

  it('merges labels met late (a U shape, a comb) and orders blobs by first pixel', () => {
    expect(blobsOf(['#.#', '#.#', '###'], 4)).toEqual([{ x: 0, y: 0, w: 3, h: 3, area: 7, maxScore: 10 }]);
    expect(blobsOf(['#.#.#.#', '#######'], 4)).toHaveLength(1);
    const two = blobsOf(['..##', '#...', '#..#'], 4);
    expect(two.map((b) => [b.x, b.y])).toEqual([
      [2, 0],
      [0, 1],
      [3, 2],
    ]);
  });

  it('adds rowOffset to y and keeps the highest score per blob', () => {
    const mask = Uint8Array.of(1, 1, 0, 0, 1, 0);
    const scores = Float32Array.of(3, 8, 0, 0, 2, 0);
    expect(connectedComponents(mask, scores, 2, 3, 4, 100)).toEqual([
      { x: 0, y: 100, w: 2, h: 2, area: 3, maxScore: 8 },
    ]);
  });

  it('matches a flood fill, and blob areas sum to the mask count (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 14 }),
        fc.integer({ min: 1, max: 14 }),
        fc.constantFrom<Connectivity>(4, 8),
        fc.infiniteStream(fc.boolean()),
        (height, width, connectivity, bits) => {
          const mask = Uint8Array.from({ length: height * width }, () => (bits.next().value ? 1 : 0));
          const blobs = connectedComponents(mask, new Float32Array(mask.length), height, width, connectivity);
          expect(blobs.map((b) => `${b.x},${b.y},${b.w},${b.h}:${b.area}`).sort()).toEqual(
            floodFill(mask, height, width, connectivity),
          );
          expect(blobs.reduce((n, b) => n + b.area, 0)).toBe(mask.reduce((n, v) => n + v, 0));
        },
      ),
      { numRuns: 400 },
    );
  });

  it('handles a checkerboard (most provisional labels) and a full frame', () => {
    const board = Array.from({ length: 9 }, (_, y) =>
      Array.from({ length: 11 }, (_, x) => ((x + y) % 2 ? '.' : '#')).join(''),
    );
    expect(blobsOf(board, 4)).toHaveLength(50);
    expect(blobsOf(board, 8)).toHaveLength(1);
    expect(blobsOf(['###', '###'], 4)).toEqual([{ x: 0, y: 0, w: 3, h: 2, area: 6, maxScore: 10 }]);
  });
});
