import { describe, expect, it } from 'vitest';
import { BeltScene, type BeltSceneOptions } from '../../../../connectors/sources/simulator/belt.js';
import { SIM_ANOMALY_CLASS_IDS } from '../../../../connectors/sources/simulator/classes.js';
import { simRandom } from '../../../../connectors/sources/simulator/rng.js';
import { simWavelengths } from '../../../../connectors/sources/simulator/wavelengths.js';

const base: BeltSceneOptions = {
  width: 200,
  wavelengths: simWavelengths('default'),
  lentilDiameter: 11,
  coverage: 0.5,
  anomalyRate: 0.02,
  blackLentilShare: 0.3,
};

/** Rasterises `lines` lines; returns the covered fraction and the scene. */
function scan(options: BeltSceneOptions, lines: number, seed = 1) {
  const scene = new BeltScene(options, simRandom(seed, 1));
  const owner = new Int32Array(options.width);
  const radius2 = new Float32Array(options.width);
  let covered = 0;
  let minRadius2 = Number.POSITIVE_INFINITY;
  let maxRadius2 = Number.NEGATIVE_INFINITY;
  const rows: Int32Array[] = [];
  for (let y = 0; y < lines; y++) {
    scene.rasterise(y, owner, radius2);
    for (const o of owner) if (o >= 0) covered++;
    for (const r of radius2) {
      minRadius2 = Math.min(minRadius2, r);
      maxRadius2 = Math.max(maxRadius2, r);
    }
    if (y < 40) rows.push(owner.slice());
  }
  expect(minRadius2).toBeGreaterThanOrEqual(0);
  expect(maxRadius2).toBeLessThanOrEqual(1);
  return { coverage: covered / (lines * options.width), scene, rows };
}

describe('BeltScene', () => {
  it.each([0.2, 0.5, 0.8])('covers about %f of the belt', (coverage) => {
    const { coverage: measured } = scan({ ...base, coverage }, 2000);
    expect(Math.abs(measured - coverage)).toBeLessThan(0.05);
  });

  it('leaves an empty belt at coverage 0', () => {
    const { coverage, scene } = scan({ ...base, coverage: 0 }, 200);
    expect(coverage).toBe(0);
    expect(scene.stats().objects).toBe(0);
  });

  it('draws foreign bodies at the anomaly rate, and none at rate 0', () => {
    const count = (anomalyRate: number) => {
      const { scene } = scan({ ...base, anomalyRate }, 3000);
      const { objects, byClass } = scene.stats();
      const foreign = SIM_ANOMALY_CLASS_IDS.reduce((sum, id) => sum + (byClass[id] ?? 0), 0);
      return { objects, foreign };
    };
    const some = count(0.1);
    expect(some.objects).toBeGreaterThan(2000);
    expect(Math.abs(some.foreign / some.objects - 0.1)).toBeLessThan(0.02);
    expect(count(0).foreign).toBe(0);
  });

  it('keeps objects across consecutive lines', () => {
    const { rows } = scan(base, 40);
    let continued = 0;
    let covered = 0;
    // An object index covering a pixel on one line mostly covers the same pixel on the next.
    for (let y = 0; y + 1 < rows.length; y++) {
      const a = rows[y]!;
      const b = rows[y + 1]!;
      for (let x = 0; x < a.length; x++) {
        if (a[x]! < 0) continue;
        covered++;
        if (b[x]! >= 0) continued++;
      }
    }
    expect(continued / covered).toBeGreaterThan(0.8);
  });

  it('refuses lines out of order', () => {
    const scene = new BeltScene(base, simRandom(1, 1));
    const owner = new Int32Array(base.width);
    const radius2 = new Float32Array(base.width);
    scene.rasterise(0, owner, radius2);
    expect(() => scene.rasterise(2, owner, radius2)).toThrow(/expected 1/);
  });
});
