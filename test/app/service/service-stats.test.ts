import { describe, expect, it } from 'vitest';
import { FrameRegister } from '../../../src/app/service/frame-register.js';
import { ServiceStats } from '../../../src/app/service/service-stats.js';
import { summaryLine } from '../../../src/app/service/summary-line.js';
import { createFrame } from '../../../src/core/frame.js';

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

describe('FrameRegister', () => {
  const block = (frameId: number, rowOffset = 0) =>
    createFrame({ frameId, rowOffset, height: 1, width: 1, bands: 1, data: new Float32Array(1) });

  it('returns a held block once by identity, forgets released ones, and evicts the oldest beyond capacity', () => {
    const register = new FrameRegister(2);
    const a = block(1);
    register.hold(a);
    register.hold(block(2));
    expect(register.take({ cameraId: a.cameraId, frameId: 1, rowOffset: 0 })).toBe(a);
    expect(register.take(a)).toBeUndefined();
    register.release(block(2));
    expect(register.size).toBe(0);
    register.hold(block(3));
    register.hold(block(4));
    register.hold(block(5));
    expect(register.size).toBe(2);
    expect(register.take(block(3))).toBeUndefined();
    expect(register.take(block(5))?.frameId).toBe(5);
  });
});
