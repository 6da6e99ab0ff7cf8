import { describe, expect, it } from 'vitest';
import { framesMissing, newestFrameId } from '../../../../connectors/sources/genicam/frame-id-gap.js';

describe('framesMissing: GVSP block ids', () => {
  it('counts nothing between consecutive ids, across the 16-bit wrap 65535 -> 1 (0 is skipped)', () => {
    expect(framesMissing(65400, 65401)).toBe(0);
    expect(framesMissing(65535, 1)).toBe(0);
    expect(framesMissing(1, 2)).toBe(0);
  });

  it('counts the ids skipped, modulo the wrap', () => {
    expect(framesMissing(10, 13)).toBe(2);
    expect(framesMissing(65534, 2)).toBe(2); // 65535 and 1
    expect(framesMissing(65535, 3)).toBe(2); // 1 and 2
    expect(framesMissing(65000, 100)).toBe(634); // 65001..65535 (535) + 1..99 (99)
  });

  it('takes a repeated id, an id that went back (counter reset) or an invalid 0 as no gap', () => {
    expect(framesMissing(500, 500)).toBe(0);
    expect(framesMissing(500, 65400)).toBe(0); // a restarted camera counts from 65400 again
    expect(framesMissing(0, 7)).toBe(0);
    expect(framesMissing(7, 0)).toBe(0);
  });

  it('counts extended (64-bit) ids without a wrap', () => {
    expect(framesMissing(70_000, 70_001)).toBe(0);
    expect(framesMissing(70_000, 70_005)).toBe(4);
    expect(framesMissing(65_535, 65_537)).toBe(1);
    expect(framesMissing(70_005, 70_000)).toBe(0);
  });
});

describe('newestFrameId', () => {
  it('keeps the newest id when a buffer comes late, so delivered lines are not counted as a gap', () => {
    expect(newestFrameId(100, 98)).toBe(100);
    expect(newestFrameId(1, 65535)).toBe(1);
    expect(newestFrameId(100, 101)).toBe(101);
    expect(newestFrameId(0, 7)).toBe(7);
    expect(newestFrameId(7, 0)).toBe(7);
    // A large step back is a restarted counter.
    expect(newestFrameId(40000, 5)).toBe(5);
    expect(newestFrameId(70_000, 69_990)).toBe(70_000);
    // In order: 99, 101 (100 late), 100, 102 -> one gap of one at 101, none at 102.
    let previous = 99;
    const gaps: number[] = [];
    for (const id of [101, 100, 102]) {
      gaps.push(framesMissing(previous, id));
      previous = newestFrameId(previous, id);
    }
    expect(gaps).toEqual([1, 0, 0]);
  });
});
