import { map, type OperatorFunction } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { type CubeFrame, createFrame } from '../../src/core/frame.js';
import { OptionError } from '../../src/core/options.js';
import { sortedQuantile } from '../../src/core/quantile.js';
import type { ScoredFrame } from '../../src/core/scored-frame.js';
import { CalibrationSchema } from '../../src/model/bundle.js';
import {
  calibrateOnFrames,
  calibrateScores,
  DEFAULT_CALIBRATION_MARGIN,
  DEFAULT_CALIBRATION_QUANTILE,
  ScoreCollector,
} from '../../src/train/calibrate.js';
import { ClassMap } from '../../src/train/class-map.js';

/** A scorer whose score is the pixel's first band (enough to check what calibration reads). */
const firstBand: OperatorFunction<CubeFrame, ScoredFrame> = map((frame) => {
  const scores = new Float32Array(frame.height * frame.width);
  for (let p = 0; p < scores.length; p++) scores[p] = frame.data[p * frame.bands] as number;
  const { data: _data, bands: _bands, wavelengths: _w, wavelengthUnits: _u, ...identity } = frame;
  return { ...identity, scores };
});

async function* stream(frames: CubeFrame[]): AsyncGenerator<CubeFrame> {
  yield* frames;
}

describe('calibrateScores', () => {
  it('sets τ = quantile(q) x margin and records the quantiles, valid for calibration.json', () => {
    const scores = Float32Array.from({ length: 1001 }, (_, i) => (1000 - i) / 100); // 0 .. 10, unsorted
    const calibration = calibrateScores(scores, { quantile: 0.99, margin: 1.5 });
    expect(calibration.quantile).toBe(0.99);
    expect(calibration.margin).toBe(1.5);
    expect(calibration.pixels).toBe(1001);
    expect(calibration.scoreQuantiles['0.99']).toBeCloseTo(9.9, 5);
    expect(calibration.scoreQuantiles['0.5']).toBeCloseTo(5, 5);
    expect(calibration.scoreQuantiles['1']).toBeCloseTo(10, 5);
    expect(calibration.threshold).toBeCloseTo(9.9 * 1.5, 4);
    expect(CalibrationSchema.parse(calibration)).toEqual(calibration);
  });

  it('uses the measured defaults when no q or margin is given', () => {
    const calibration = calibrateScores(Float32Array.from({ length: 100 }, (_, i) => i));
    expect(calibration.quantile).toBe(DEFAULT_CALIBRATION_QUANTILE);
    expect(calibration.margin).toBe(DEFAULT_CALIBRATION_MARGIN);
    expect(calibration.threshold).toBeCloseTo(
      sortedQuantile(
        Float32Array.from({ length: 100 }, (_, i) => i),
        0.999,
      ) * 2,
      4,
    );
  });

  it('rejects bad q, margin and non-finite scores, naming the option', () => {
    expect(() => calibrateScores(Float32Array.of(1, 2), { quantile: 0 })).toThrow(
      /calibration\.quantile = 0/,
    );
    expect(() => calibrateScores(Float32Array.of(1, 2), { margin: -1 })).toThrow(/calibration\.margin = -1/);
    expect(() => calibrateScores(Float32Array.of(1, Number.NaN))).toThrow(/must be finite/);
    expect(() => calibrateScores(new Float32Array(0))).toThrow(OptionError);
    expect(() => calibrateScores(new Float32Array(0))).toThrow(/no scores to take a quantile of/);
    expect(() => calibrateScores(Float32Array.of(1), { quantiles: [1.5] })).toThrow(/quantile = 1.5/);
  });

  it("records numpy's linear quantiles", () => {
    // numpy.quantile([1, 2, 3, 4], [0, 0.25, 0.5, 0.9, 1]) = [1, 1.75, 2.5, 3.7, 4]
    const { scoreQuantiles } = calibrateScores(Float32Array.of(4, 2, 1, 3), {
      quantile: 1,
      quantiles: [0, 0.25, 0.5, 0.9],
    });
    expect(scoreQuantiles['0']).toBe(1);
    expect(scoreQuantiles['0.25']).toBeCloseTo(1.75, 12);
    expect(scoreQuantiles['0.5']).toBeCloseTo(2.5, 12);
    expect(scoreQuantiles['0.9']).toBeCloseTo(3.7, 12);
    expect(scoreQuantiles['1']).toBe(4);
    expect(calibrateScores(Float32Array.of(7), { quantile: 0.3, margin: 1 }).threshold).toBe(7);
  });
});

describe('ScoreCollector', () => {
  it('grows past its initial size and keeps only the masked scores', () => {
    const collector = new ScoreCollector();
    const scores = Float32Array.from({ length: 70_000 }, (_, i) => 70_000 - i);
    collector.add(scores);
    collector.add(Float32Array.of(-1, -2, -3), Uint8Array.of(1, 0, 1));
    expect(collector.length).toBe(70_002);
    const sorted = collector.sorted();
    expect([...sorted.subarray(0, 3)]).toEqual([-3, -1, 1]);
  });
});

describe('calibrateOnFrames', () => {
  it('calibrates every scorer on the normal pixels only (anomalies and unlabelled pixels left out)', async () => {
    const labels = Uint8Array.of(1, 1, 1, 1, 3, 0);
    const data = Float32Array.of(1, 2, 3, 4, 1000, 500);
    const frame = createFrame({ height: 2, width: 3, bands: 1, data, labels, capturedAt: 0 });
    const doubled: OperatorFunction<CubeFrame, ScoredFrame> = (source) =>
      source.pipe(
        firstBand,
        map((s) => ({ ...s, scores: s.scores.map((v) => 2 * v) })),
      );
    const result = await calibrateOnFrames(
      stream([frame, frame]),
      { first: firstBand, doubled },
      { classes: new ClassMap([1], [3]), quantile: 1, margin: 1 },
    );
    expect(result.first.pixels).toBe(8);
    expect(result.first.threshold).toBe(4);
    expect(result.doubled.threshold).toBe(8);
    const all = await calibrateOnFrames(stream([frame]), { first: firstBand }, { quantile: 1, margin: 1 });
    expect(all.first.threshold).toBe(1000);
  });
});
