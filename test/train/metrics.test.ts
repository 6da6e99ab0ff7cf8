import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  anomalyMask,
  aurocFromSorted,
  averagePrecisionFromSorted,
  EvaluationAccumulator,
} from '../../src/train/metrics.js';
import { EvaluationInputError } from '../../src/train/train-errors.js';
import { loadGoldenVectors } from './golden-source.js';

/** AUROC by brute force over all (positive, negative) pairs, ties half. */
function pairwiseAuroc(scores: number[], truth: number[]): number {
  let u = 0;
  let pairs = 0;
  scores.forEach((s, i) => {
    if (truth[i] === 0) return;
    scores.forEach((t, j) => {
      if (truth[j] !== 0) return;
      pairs++;
      u += s > t ? 1 : s === t ? 0.5 : 0;
    });
  });
  return u / pairs;
}

function evaluate(scores: number[], truth: number[]) {
  return new EvaluationAccumulator({ initialCapacity: 4 }).add(Float32Array.from(scores), truth).compute();
}

describe('EvaluationAccumulator on the golden case (score.out, quantile.decisions, label 3)', () => {
  it('gives exactly the golden.json metrics', () => {
    const golden = loadGoldenVectors();
    const scores = golden.f32('score.out');
    const decisions = golden.tensor('quantile.decisions').data as Uint8Array;
    const labels = golden.tensor('input.labels').data as Uint8Array;
    const evaluation = new EvaluationAccumulator();
    // Two frames of 96 pixels, as the detector would feed them.
    for (const [start, end] of [
      [0, 96],
      [96, 192],
    ]) {
      evaluation.add(
        scores.subarray(start, end),
        anomalyMask(labels.subarray(start, end), [3]),
        decisions.subarray(start, end),
      );
    }
    const m = evaluation.compute();
    const ref = golden.json.metrics;
    expect({ tp: m.tp, fp: m.fp, fn: m.fn }).toEqual({ tp: ref.tp, fp: ref.fp, fn: ref.fn });
    expect(m.pixels).toBe(192);
    expect(m.tn).toBe(192 - 18);
    expect(m.precision).toBeCloseTo(ref.precision as number, 12);
    expect(m.recall).toBeCloseTo(ref.recall as number, 12);
    expect(m.f1).toBeCloseTo(ref.f1 as number, 12);
    expect(m.iou).toBeCloseTo(ref.iou as number, 12);
    expect(m.auroc).toBeCloseTo(ref.auroc as number, 9);
    expect(m.ap).toBeCloseTo(ref.ap as number, 9);
  });
});

describe('confusion metrics', () => {
  it('counts a per-pixel threshold as score >= tau', () => {
    const m = new EvaluationAccumulator().add([0.1, 0.5, 0.5, 0.9], [0, 0, 1, 1], 0.5).compute();
    expect({ tp: m.tp, fp: m.fp, fn: m.fn, tn: m.tn }).toEqual({ tp: 2, fp: 1, fn: 0, tn: 1 });
    expect(m.precision).toBeCloseTo(2 / 3, 12);
    expect(m.recall).toBe(1);
    expect(m.f1).toBeCloseTo(0.8, 12);
    expect(m.iou).toBeCloseTo(2 / 3, 12);
  });

  it('gives 0 (not NaN) when nothing is flagged and nothing is anomalous', () => {
    const m = new EvaluationAccumulator().add([1, 2, 3], [0, 0, 0], [0, 0, 0]).compute();
    expect([m.precision, m.recall, m.f1, m.iou]).toEqual([0, 0, 0, 0]);
    expect(m.auroc).toBeNaN();
    expect(m.ap).toBeNaN();
  });

  it('rejects mismatched lengths, non-finite scores and decisions given for some frames only', () => {
    const acc = new EvaluationAccumulator();
    expect(() => acc.add([1, 2], [0])).toThrow(EvaluationInputError);
    expect(() => acc.add([1, Number.NaN], [0, 1])).toThrow(/scores\[1\]/);
    expect(() => acc.add([1, 2], [0, 1], [1])).toThrow(/predicted/);
    acc.add([1, 2], [0, 1], 1.5);
    expect(() => acc.add([1, 2], [0, 1])).toThrow(/missing but given for earlier frames/);
  });
});

describe('AUROC and AP', () => {
  it('average ties in AUROC and group them in AP', () => {
    expect(evaluate([1, 1], [1, 0]).auroc).toBe(0.5);
    expect(evaluate([1, 2, 2, 3], [0, 1, 0, 1]).auroc).toBeCloseTo(
      pairwiseAuroc([1, 2, 2, 3], [0, 1, 0, 1]),
      12,
    );
    // Ranked: 3 (pos) -> precision 1; {2 pos, 2 neg} tie -> precision 2/3.
    expect(evaluate([1, 2, 2, 3], [0, 1, 0, 1]).ap).toBeCloseTo((1 + 2 / 3) / 2, 12);
    // No ties: positives at ranks 1 and 3 -> (1/1 + 2/3) / 2.
    expect(averagePrecisionFromSorted(Float32Array.of(2, 4), Float32Array.of(1, 3))).toBeCloseTo(
      (1 + 2 / 3) / 2,
      12,
    );
    expect(aurocFromSorted(Float32Array.of(2, 4), Float32Array.of(1, 3))).toBe(0.75);
  });

  it('keeps AUROC O(n log n): a million pixels with many ties agree with the sorted formula', () => {
    const n = 1_000_000;
    const scores = new Float32Array(n);
    const truth = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      scores[i] = (i * 7919) % 1000; // 1000 distinct values, heavy ties
      truth[i] = i % 10 === 0 ? 1 : 0;
    }
    const m = new EvaluationAccumulator().add(scores, truth).compute();
    expect(m.pixels).toBe(n);
    expect(m.positives).toBe(n / 10);
    // Positives take i = 0, 10, 20, ...: (i * 7919) % 1000 hits multiples of 10 only, uniformly.
    // Exact AUROC of that layout computed independently over the 1000 value classes:
    const posCount = new Float64Array(1000);
    const negCount = new Float64Array(1000);
    for (let i = 0; i < n; i++) (truth[i] ? posCount : negCount)[scores[i] as number]! += 1;
    let u = 0;
    let negBelow = 0;
    for (let v = 0; v < 1000; v++) {
      u += posCount[v]! * (negBelow + negCount[v]! / 2);
      negBelow += negCount[v]!;
    }
    expect(m.auroc).toBeCloseTo(u / ((n / 10) * (n - n / 10)), 12);
  });

  const labelled = fc
    .array(fc.tuple(fc.float({ min: -1e3, max: 1e3, noNaN: true, noDefaultInfinity: true }), fc.boolean()), {
      minLength: 2,
      maxLength: 60,
    })
    .filter((pairs) => pairs.some(([, t]) => t) && pairs.some(([, t]) => !t));

  it('property: AUROC equals the pairwise Mann-Whitney count', () => {
    fc.assert(
      fc.property(labelled, (pairs) => {
        const scores = pairs.map(([s]) => Math.fround(s));
        const truth = pairs.map(([, t]) => (t ? 1 : 0));
        expect(evaluate(scores, truth).auroc).toBeCloseTo(pairwiseAuroc(scores, truth), 12);
      }),
    );
  });

  it('property: perfectly separated scores give AUROC 1 and AP 1, reversed give AUROC 0', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 1000 }), { minLength: 1, maxLength: 40 }),
        fc.array(fc.integer({ min: 1001, max: 2000 }), { minLength: 1, maxLength: 40 }),
        (normal, anomalous) => {
          const scores = [...normal, ...anomalous];
          const truth = [...normal.map(() => 0), ...anomalous.map(() => 1)];
          const m = evaluate(scores, truth);
          expect(m.auroc).toBe(1);
          expect(m.ap).toBe(1);
          expect(
            evaluate(
              scores,
              truth.map((t) => 1 - t),
            ).auroc,
          ).toBe(0);
        },
      ),
    );
  });

  it('property: AUROC and AP are invariant under strictly increasing transforms', () => {
    fc.assert(
      fc.property(labelled, (pairs) => {
        // Integers keep the transform exact in float32 (no new ties, none merged).
        const scores = pairs.map(([s]) => Math.round(s));
        const truth = pairs.map(([, t]) => (t ? 1 : 0));
        const base = evaluate(scores, truth);
        const shifted = evaluate(
          scores.map((s) => 3 * s + 5000),
          truth,
        );
        const cubed = evaluate(
          scores.map((s) => (Math.sign(s) * Math.abs(s) ** 1.5) / 8),
          truth,
        );
        expect(shifted.auroc).toBeCloseTo(base.auroc, 12);
        expect(shifted.ap).toBeCloseTo(base.ap, 12);
        expect(cubed.auroc).toBeCloseTo(base.auroc, 12);
        expect(cubed.ap).toBeCloseTo(base.ap, 12);
      }),
    );
  });
});
