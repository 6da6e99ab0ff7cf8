import { describe, expect, it } from 'vitest';
import { quantileOf } from '../../src/core/quantile.js';
import { ScoreWindow } from '../../src/scoring/score-window.js';

describe('ScoreWindow', () => {
  it('counts only closed frames and expires by frames', () => {
    const w = new ScoreWindow({ frames: 2 }, 'exact', 0.01);
    w.openFrame(0, 0);
    w.add(Float32Array.of(1, 1), Number.POSITIVE_INFINITY);
    expect(w.quantile(0.5)).toBeUndefined();
    expect(w.isFull(0)).toBe(false);
    w.openFrame(1, 0);
    w.add(Float32Array.of(2, 2), Number.POSITIVE_INFINITY);
    expect(w.isFull(0)).toBe(false);
    w.openFrame(2, 0);
    w.add(Float32Array.of(3, 3), Number.POSITIVE_INFINITY);
    expect(w.quantile(0)).toBe(1);
    expect(w.isFull(0)).toBe(true);
    w.openFrame(3, 0);
    expect(w.frames).toBe(2);
    expect(w.isFull(0)).toBe(true);
    expect(w.quantile(0)).toBe(2);
    expect(w.quantile(1)).toBe(3);
  });

  it('expires by seconds on the given clock', () => {
    const w = new ScoreWindow({ seconds: 1 }, 'exact', 0.01);
    [0, 400, 800].forEach((t, i) => {
      w.openFrame(i, t);
      w.add(Float32Array.of(i + 1), Number.POSITIVE_INFINITY);
    });
    w.openFrame(3, 1300); // frame 0 opened 1.3 s ago: gone; frames 1 (0.9 s) and 2 stay
    expect(w.frames).toBe(2);
    expect(w.quantile(0)).toBe(2);
    expect(w.isFull(1300)).toBe(true);
    expect(w.isFull(999)).toBe(false);
  });

  it('censors scores at or above the bar: they take the top ranks without their values', () => {
    const w = new ScoreWindow({ frames: 10 }, 'exact', 0.01);
    w.openFrame(0, 0);
    w.add(Float32Array.of(1, 2, 3, 4, 1000, 2000), 10);
    w.openFrame(1, 0);
    expect(w.kept).toBe(4);
    // n = 6, q = 0.5 -> h = 2.5: between ranks 2 and 3 of [1, 2, 3, 4, c, c]
    expect(w.quantile(0.5)).toBe(3.5);
    // q = 0.9 -> h = 4.5 falls among the censored: the largest kept score
    expect(w.quantile(0.9)).toBe(4);
  });

  function concat(chunks: Float32Array[]): Float32Array {
    const out = new Float32Array(chunks.reduce((n, c) => n + c.length, 0));
    let at = 0;
    for (const c of chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  }

  /** Runs a window over frames of Exp(1) scores, τ = margin × window quantile; returns τ / (margin × true quantile). */
  function driftOf(q: number, margin: number, frames: number, censor: boolean): number {
    let seed = 12345;
    const random = (): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return (seed + 0.5) / 2 ** 31;
    };
    const truth = margin * -Math.log(1 - q);
    const w = new ScoreWindow({ frames: 10 }, 'exact', 0.01);
    const cut: Float32Array[] = [];
    let tau = truth;
    for (let i = 0; i < frames; i++) {
      const scores = Float32Array.from({ length: 2000 }, () => -Math.log(random()));
      w.openFrame(i, 0);
      if (censor) {
        tau = margin * (w.quantile(q) ?? tau / margin);
        w.add(scores, tau);
      } else {
        // The naive alternative: drop the scores >= τ and take the quantile of what is left.
        if (cut.length > 0) tau = margin * quantileOf(concat(cut), q);
        cut.push(scores.filter((s) => s < tau));
        if (cut.length > 10) cut.shift();
      }
    }
    return tau / truth;
  }

  it('holds τ steady on clean data with a margin, where cutting the judged pixels out biases it low', () => {
    const censored = driftOf(0.995, 1.2, 150, true);
    expect(censored).toBeGreaterThan(0.93);
    expect(censored).toBeLessThan(1.07);
    expect(driftOf(0.995, 1.2, 150, false)).toBeLessThan(0.92);
  });

  it('at margin 1 drifts down far slower than cutting (which collapses)', () => {
    expect(driftOf(0.99, 1, 60, true)).toBeGreaterThan(0.9);
    expect(driftOf(0.99, 1, 60, false)).toBeLessThan(0.6);
  });
});
