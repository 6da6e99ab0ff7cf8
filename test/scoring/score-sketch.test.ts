import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  addScoresBelow,
  emptySketch,
  mergeSketchInto,
  sketchSize,
  sketchValueAtRank,
} from '../../src/scoring/score-sketch.js';
import { ScoreWindow } from '../../src/scoring/score-window.js';

const ALPHA = 0.01;
/** Room for floating-point rounding at bucket edges on top of the α guarantee. */
const slack = (x: number): number => ALPHA * x * (1 + 1e-9) + 1e-300;

/** Non-negative float32 scores: light and heavy tails, zeros and tiny values mixed in. */
const scoreArb = fc.oneof(
  fc.double({ min: 0, max: 100, noNaN: true }),
  fc.double({ min: -30, max: 30, noNaN: true }).map((x) => Math.exp(x)), // log-normal-ish, 1e-13 .. 1e13
  fc.double({ min: 1e-6, max: 1, noNaN: true }).map((u) => u ** -2), // Pareto tail
  fc.constantFrom(0, 1e-40, 1, 0.999999),
);
const framesArb = fc.array(fc.array(scoreArb, { minLength: 1, maxLength: 60 }), {
  minLength: 1,
  maxLength: 8,
});

function fillWindows(
  frames: number[][],
  bar: (i: number) => number,
): { exact: ScoreWindow; sketch: ScoreWindow } {
  const exact = new ScoreWindow({ frames: 100 }, 'exact', ALPHA);
  const sketch = new ScoreWindow({ frames: 100 }, 'ddsketch', ALPHA);
  frames.forEach((scores, i) => {
    for (const w of [exact, sketch]) {
      w.openFrame(i, 0);
      w.add(Float32Array.from(scores), bar(i));
    }
  });
  for (const w of [exact, sketch]) w.openFrame(frames.length, 0);
  return { exact, sketch };
}

describe('DDSketch window quantile', () => {
  it('is within α relative of the exact window quantile, heavy tails and zeros included (property)', () => {
    fc.assert(
      fc.property(framesArb, fc.double({ min: 0, max: 1, noNaN: true }), (frames, q) => {
        const { exact, sketch } = fillWindows(frames, () => Number.POSITIVE_INFINITY);
        const x = exact.quantile(q) as number;
        const estimate = sketch.quantile(q) as number;
        expect(Math.abs(estimate - x)).toBeLessThanOrEqual(slack(x));
      }),
      { numRuns: 400 },
    );
  });

  it('keeps the bound with censored scores (property)', () => {
    fc.assert(
      fc.property(
        framesArb,
        fc.double({ min: 0.5, max: 0.999, noNaN: true }),
        fc.double({ min: 0.1, max: 50, noNaN: true }),
        (frames, q, bar) => {
          const { exact, sketch } = fillWindows(frames, () => bar);
          const x = exact.quantile(q);
          const estimate = sketch.quantile(q);
          if (x === undefined) expect(estimate).toBeUndefined();
          else expect(Math.abs((estimate as number) - x)).toBeLessThanOrEqual(slack(x));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('returns exact zeros for a window of zeros', () => {
    const { sketch } = fillWindows([[0, 0, 0], [0]], () => Number.POSITIVE_INFINITY);
    expect(sketch.quantile(0.995)).toBe(0);
  });
});

describe('mergeSketchInto', () => {
  it('merges a sketch whose top bucket key is 0 into one lying below it (DDSketch.merge loses counts there)', () => {
    const target = emptySketch(ALPHA);
    addScoresBelow(target, new Float32Array(10).fill(1e-6), Number.POSITIVE_INFINITY);
    const source = emptySketch(ALPHA);
    addScoresBelow(source, Float32Array.of(1e-9, 1), Number.POSITIVE_INFINITY);
    mergeSketchInto(target, source);
    expect(sketchSize(target)).toBe(12);
    expect(target.store.bins.some(Number.isNaN)).toBe(false);
    expect(sketchValueAtRank(target, 11)).toBeCloseTo(1, 1);
    expect(sketchValueAtRank(target, 0)).toBeCloseTo(1e-9, 10);
  });

  it('counts zeros and clamps negatives and +Infinity', () => {
    const sketch = emptySketch(ALPHA);
    expect(
      addScoresBelow(sketch, Float32Array.of(0, -1, 5, Number.POSITIVE_INFINITY), Number.POSITIVE_INFINITY),
    ).toBe(4);
    expect(addScoresBelow(emptySketch(ALPHA), Float32Array.of(1, 8.9, 9, 10), 9)).toBe(2);
    expect(sketch.zeroCount).toBe(2);
    expect(sketchValueAtRank(sketch, 1)).toBe(0);
    expect(Math.abs(sketchValueAtRank(sketch, 2) - 5)).toBeLessThanOrEqual(slack(5));
    expect(sketchValueAtRank(sketch, 3)).toBeGreaterThan(1e300);
  });
});
