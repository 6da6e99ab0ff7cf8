import { describe, expect, it } from 'vitest';
import { NORMAL_TABLE_SIZE, normalTable, simRandom } from '../../../../connectors/sources/simulator/rng.js';

describe('simRandom', () => {
  it('repeats the same sequence for the same seed and stream', () => {
    const a = simRandom(42, 3);
    const b = simRandom(42, 3);
    for (let i = 0; i < 100; i++) expect(a.uint32()).toBe(b.uint32());
  });

  it('gives different sequences for other seeds or streams', () => {
    const first = (seed: number, stream: number) => {
      const r = simRandom(seed, stream);
      return [r.uint32(), r.uint32(), r.uint32()];
    };
    expect(first(42, 3)).not.toEqual(first(43, 3));
    expect(first(42, 3)).not.toEqual(first(42, 4));
  });

  it('draws uniforms in [0, 1) and standard normals', () => {
    const r = simRandom(7);
    let sum = 0;
    let squares = 0;
    let lo = 1;
    let hi = 0;
    const n = 20_000;
    for (let i = 0; i < n; i++) {
      const u = r.uniform();
      lo = Math.min(lo, u);
      hi = Math.max(hi, u);
      const z = r.normal();
      sum += z;
      squares += z * z;
    }
    expect(lo).toBeGreaterThanOrEqual(0);
    expect(lo).toBeLessThan(0.01);
    expect(hi).toBeLessThan(1);
    expect(hi).toBeGreaterThan(0.99);
    expect(Math.abs(sum / n)).toBeLessThan(0.05);
    expect(squares / n).toBeGreaterThan(0.95);
    expect(squares / n).toBeLessThan(1.05);
  });

  it('builds a standardised normal table', () => {
    const table = normalTable(simRandom(1));
    expect(table.length).toBe(NORMAL_TABLE_SIZE);
    let sum = 0;
    let squares = 0;
    let beyond2 = 0;
    for (const v of table) {
      sum += v;
      squares += v * v;
      if (Math.abs(v) > 2) beyond2++;
    }
    expect(Math.abs(sum / table.length)).toBeLessThan(1e-4);
    expect(squares / table.length).toBeCloseTo(1, 3);
    // A Gaussian has 4.55 % of its mass beyond 2 sigma.
    expect(beyond2 / table.length).toBeGreaterThan(0.035);
    expect(beyond2 / table.length).toBeLessThan(0.056);
  });
});
