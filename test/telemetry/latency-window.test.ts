import { describe, expect, it } from 'vitest';
import { LatencyWindow } from '../../src/telemetry/latency-window.js';

describe('LatencyWindow', () => {
  it('has no p99 while empty', () => {
    const window = new LatencyWindow(4);
    expect(window.p99()).toBeUndefined();
    expect(window.size).toBe(0);
    expect(window.capacity).toBe(4);
  });

  it('takes the nearest-rank p99: the largest below 100 values, the 99th of 100, the 198th of 200', () => {
    const window = new LatencyWindow(1000);
    for (const v of [5, 1, 3]) window.add(v);
    expect(window.p99()).toBe(5);
    const hundred = new LatencyWindow(100);
    for (let i = 100; i >= 1; i--) hundred.add(i);
    expect(hundred.p99()).toBe(99);
    const twoHundred = new LatencyWindow(200);
    for (let i = 1; i <= 200; i++) twoHundred.add(i);
    expect(twoHundred.p99()).toBe(198);
  });

  it('keeps only the last `capacity` latencies', () => {
    const window = new LatencyWindow(3);
    for (const v of [100, 200, 300, 1, 2, 3]) window.add(v);
    expect(window.size).toBe(3);
    expect(window.p99()).toBe(3);
    window.add(0.5);
    expect(window.p99()).toBe(3);
    window.add(0.25);
    window.add(0.125);
    expect(window.p99()).toBe(0.5);
  });

  it('rejects a capacity that is not a positive integer', () => {
    expect(() => new LatencyWindow(0)).toThrow(RangeError);
    expect(() => new LatencyWindow(2.5)).toThrow(/positive integer/);
  });
});
