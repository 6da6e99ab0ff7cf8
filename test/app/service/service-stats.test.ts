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
});
