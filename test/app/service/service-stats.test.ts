import { describe, expect, it } from 'vitest';
import { ServiceStats } from '../../../src/app/service/service-stats.js';
import { summaryLine } from '../../../src/app/service/summary-line.js';

describe('ServiceStats and the summary line', () => {
  it('keeps counters, drops per camera and the p99 of a latency window', () => {
    const stats = new ServiceStats(100, 0);
    expect(stats.latencyP99()).toBeUndefined();
    for (let i = 1; i <= 200; i++) stats.recordLatency(i / 1000); // the window keeps 101..200 ms
    expect(stats.latencyP99()).toBeCloseTo(0.199, 9);
    stats.drop('a');
    stats.drop('a');
    stats.drop('b');
    expect([stats.dropped, stats.droppedOf('a'), stats.droppedOf('b'), stats.droppedOf('c')]).toEqual([
      3, 2, 1, 0,
    ]);
  });

  it('leaves the warm-up blocks out of the p99', () => {
    const stats = new ServiceStats(100, 3);
    for (const seconds of [0.09, 0.08, 0.07]) stats.recordLatency(seconds); // graph load, JIT
    expect([stats.warmedUp, stats.latencyP99()]).toEqual([true, undefined]);
    stats.recordLatency(0.004);
    expect(stats.latencyP99()).toBe(0.004);
  });

  it('formats frames, rate, anomalies, τ, p99, drops and rejects', () => {
    const stats = new ServiceStats(1024, 0);
    const before = stats.snapshot();
    expect(summaryLine(undefined, before, 1)).toBe(
      'frames 0 (0.0/s) · anomalous 0 · τ - · p99 - · drops 0 · rejected 0',
    );
    stats.frames = 40;
    stats.anomalous = 3;
    stats.thresholds.set('cam0', 58.8987);
    stats.recordLatency(0.0384);
    expect(summaryLine(before, stats.snapshot(), 4)).toBe(
      'frames 40 (10.0/s) · anomalous 3 · τ 58.9 · p99 38 ms · drops 0 · rejected 0',
    );
    stats.thresholds.set('cam1', 12.345);
    expect(summaryLine(undefined, stats.snapshot(), 8)).toContain('τ 12.3..58.9');
  });

  it('adds live false alarms and recall when blocks carry the truth of their source, per camera and overall', () => {
    const stats = new ServiceStats(1024, 0, 2);
    const block = (cameraId: string, bodies: number[][], anomalous: boolean, masked: number[] = []) => {
      const mask = new Uint8Array(8);
      for (const p of masked) mask[p] = 1;
      return {
        cameraId,
        mask,
        decision: { anomalous },
        truth: {
          foreignBodies: bodies.map((pixels, i) => ({
            objectId: i,
            classId: 3,
            pixels: Uint32Array.from(pixels),
          })),
        },
      };
    };
    stats.observeTruth({ cameraId: 'cam0', mask: new Uint8Array(8), decision: { anomalous: true } });
    expect(stats.snapshot().truth).toBeUndefined();
    stats.observeTruth(block('cam0', [], true));
    stats.observeTruth(block('cam0', [], false));
    stats.observeTruth(block('cam0', [], false));
    stats.observeTruth(block('cam0', [], false));
    stats.observeTruth(block('cam1', [[0, 1, 2]], true, [1]));
    stats.observeTruth(block('cam1', [], false));
    expect(stats.truthOf('cam0')).toMatchObject({ falseAlarmRate: 0.25, recall: null });
    expect(stats.truthOf('cam1')).toMatchObject({ falseAlarmRate: 0, recall: 1 });
    expect(stats.truthOf('cam2')).toBeUndefined();
    expect(summaryLine(undefined, stats.snapshot(), 1)).toMatch(
      / · false alarms 20\.00 % of 5 clean · recall 100\.0 % of 1 foreign bodies$/,
    );
  });
});
