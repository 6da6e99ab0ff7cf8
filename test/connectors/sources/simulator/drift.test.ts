import { describe, expect, it } from 'vitest';
import {
  isSimAnomaly,
  SIM_BELT,
  SIM_BLACK_LENTIL,
  SIM_BROWN_LENTIL,
} from '../../../../connectors/sources/simulator/classes.js';
import {
  BURST_SECONDS,
  DRIFT_MAGNITUDES,
  DRIFT_ONSET_SECONDS,
  type DriftScenario,
  driftStateAt,
} from '../../../../connectors/sources/simulator/drift.js';
import {
  createLineScanSimulator,
  type LineScanSimulator,
} from '../../../../connectors/sources/simulator/line-scan-simulator.js';
import type { CubeFrame } from '../../../../src/core/frame.js';

/** A small camera whose drift clock runs one block per second. */
const ROWS = 8;
const WIDTH = 48;

function simulator(scenario: DriftScenario | undefined, seed = 5): LineScanSimulator {
  return createLineScanSimulator({
    width: WIDTH,
    blockRows: ROWS,
    seed,
    anomalyRate: 0.02,
    illuminationDrift: 0,
    ...(scenario === undefined ? {} : { drift: { scenario, linesPerSecond: ROWS } }),
  });
}

/** Blocks for seconds [from, to) of the scenario. */
function blocksAt(sim: LineScanSimulator, from: number, to: number): CubeFrame[] {
  const out: CubeFrame[] = [];
  while (sim.blocksEmitted < to) {
    const frame = sim.nextFrame(0);
    if (frame === undefined) break;
    if (sim.blocksEmitted > from) out.push(frame);
  }
  return out;
}

/** Mean DN of the pixels of `classId` in band `band`. */
function meanOf(blocks: readonly CubeFrame[], classId: number, band: number): number {
  let sum = 0;
  let n = 0;
  for (const b of blocks) {
    for (let p = 0; p < b.height * b.width; p++) {
      if (b.labels?.[p] !== classId) continue;
      sum += b.data[p * b.bands + band]!;
      n++;
    }
  }
  return sum / n;
}

describe('simulator truth', () => {
  it('lists every foreign-body pixel once, by object, and keeps an object id across block edges', () => {
    const sim = simulator(undefined, 11);
    const blocks = blocksAt(sim, 0, 300);
    const blocksOfObject = new Map<number, number>();
    let foreignPixels = 0;
    for (const block of blocks) {
      const truth = block.truth;
      expect(truth).toBeDefined();
      const marked = new Uint8Array(block.height * block.width);
      for (const body of truth!.foreignBodies) {
        expect(isSimAnomaly(body.classId)).toBe(true);
        blocksOfObject.set(body.objectId, (blocksOfObject.get(body.objectId) ?? 0) + 1);
        for (const p of body.pixels) {
          expect(block.labels?.[p]).toBe(body.classId);
          expect(marked[p]).toBe(0);
          marked[p] = 1;
        }
      }
      for (let p = 0; p < marked.length; p++) {
        if (isSimAnomaly(block.labels![p]!)) {
          foreignPixels++;
          expect(marked[p]).toBe(1);
        }
      }
    }
    expect(foreignPixels).toBeGreaterThan(0);
    // Objects are ~11 lines tall and blocks 8: most foreign bodies span two or more blocks.
    expect([...blocksOfObject.values()].some((n) => n > 1)).toBe(true);
  });

  it('marks simulated blocks finite and leaves the data of a run without drift unchanged by `clean`', () => {
    const plain = blocksAt(simulator(undefined), 0, 20);
    const clean = blocksAt(simulator('clean'), 0, 20);
    expect(plain[0]?.finite).toBe(true);
    for (let i = 0; i < plain.length; i++) expect(clean[i]?.data).toEqual(plain[i]?.data);
  });
});

describe('drift scenarios', () => {
  it('rejects an unknown scenario, naming it', () => {
    expect(() => createLineScanSimulator({ drift: { scenario: 'lamp-flicker' as DriftScenario } })).toThrow(
      /drift\.scenario.*lamp-flicker|lamp-flicker.*drift\.scenario/s,
    );
  });

  it('states each scenario at the onset and the end of the hour', () => {
    expect(driftStateAt('lamp-step', DRIFT_ONSET_SECONDS - 1).lamp).toBe(1);
    expect(driftStateAt('lamp-step', DRIFT_ONSET_SECONDS).lamp).toBeCloseTo(1 + DRIFT_MAGNITUDES.stepGain);
    expect(driftStateAt('lamp-ageing', 3600).lamp).toBeCloseTo(1 - DRIFT_MAGNITUDES.ageingLoss);
    expect(driftStateAt('wavelength-shift', 1800).shiftNm).toBeCloseTo(DRIFT_MAGNITUDES.shiftNm / 2);
    expect(driftStateAt('burst', DRIFT_ONSET_SECONDS + BURST_SECONDS).anomalyRate).toBeUndefined();
    expect(driftStateAt('burst', DRIFT_ONSET_SECONDS).anomalyRate).toBe(DRIFT_MAGNITUDES.burstAnomalyRate);
    expect(driftStateAt('dirty-belt', 0).anomalyRate).toBe(DRIFT_MAGNITUDES.dirtyAnomalyRate);
  });

  it('lamp step: the belt brightens by the step at the onset, not before', () => {
    const sim = simulator('lamp-step');
    const before = blocksAt(sim, DRIFT_ONSET_SECONDS - 60, DRIFT_ONSET_SECONDS);
    const after = blocksAt(sim, DRIFT_ONSET_SECONDS, DRIFT_ONSET_SECONDS + 60);
    const band = 40;
    const ratio = meanOf(after, SIM_BELT, band) / meanOf(before, SIM_BELT, band);
    expect(ratio).toBeGreaterThan(1.12);
    expect(ratio).toBeLessThan(1.2);
  });

  it('wavelength shift: the same belt geometry, spectra moved by the end of the hour', () => {
    const clean = simulator('clean');
    const shifted = simulator('wavelength-shift');
    expect(blocksAt(shifted, 0, 1)[0]?.data).toEqual(blocksAt(clean, 0, 1)[0]?.data);
    const lateClean = blocksAt(clean, 3500, 3510);
    const lateShifted = blocksAt(shifted, 3500, 3510);
    expect(lateShifted[0]?.labels).toEqual(lateClean[0]?.labels);
    // The brown lentil's red edge (700 nm) moves: the DN at ~700 nm changes by over a per cent.
    const band = 34; // 702 nm in the default layout
    const change =
      meanOf(lateShifted, SIM_BROWN_LENTIL, band) / meanOf(lateClean, SIM_BROWN_LENTIL, band) - 1;
    expect(Math.abs(change)).toBeGreaterThan(0.01);
  });

  it('product change: black lentils take over after the onset', () => {
    const sim = simulator('product-change');
    const share = (blocks: readonly CubeFrame[]): number => {
      let black = 0;
      let lentil = 0;
      for (const b of blocks)
        for (const id of b.labels!) {
          if (id === SIM_BLACK_LENTIL) black++;
          if (id === SIM_BLACK_LENTIL || id === SIM_BROWN_LENTIL) lentil++;
        }
      return black / lentil;
    };
    const before = share(blocksAt(sim, DRIFT_ONSET_SECONDS - 200, DRIFT_ONSET_SECONDS));
    const after = share(blocksAt(sim, DRIFT_ONSET_SECONDS + 10, DRIFT_ONSET_SECONDS + 210));
    expect(before).toBeLessThan(0.45);
    expect(after).toBeGreaterThan(0.65);
  });

  it('dead pixels: none at the start, stuck sensor elements by the end', () => {
    const sim = simulator('dead-pixels');
    const stuck = (block: CubeFrame): number => {
      let n = 0;
      for (let col = 0; col < block.width; col++)
        for (let band = 0; band < block.bands; band++) {
          const first = block.data[col * block.bands + band]!;
          if (first !== 0 && first !== 4095) continue;
          let same = true;
          for (let row = 1; row < block.height && same; row++)
            same = block.data[(row * block.width + col) * block.bands + band] === first;
          if (same) n++;
        }
      return n;
    };
    expect(stuck(blocksAt(sim, 0, 1)[0]!)).toBe(0);
    const last = blocksAt(sim, 3599, 3600)[0]!;
    const expected = Math.round(DRIFT_MAGNITUDES.deadFraction * WIDTH * last.bands);
    expect(stuck(last)).toBeGreaterThanOrEqual(Math.max(1, expected - 1));
  });

  it('burst and dirty belt: many more foreign bodies than the configured rate', () => {
    const bodies = (blocks: readonly CubeFrame[]): number =>
      blocks.reduce((n, b) => n + (b.truth?.foreignBodies.length ?? 0), 0);
    const burst = simulator('burst');
    const quiet = bodies(blocksAt(burst, DRIFT_ONSET_SECONDS - BURST_SECONDS, DRIFT_ONSET_SECONDS));
    const loud = bodies(blocksAt(burst, DRIFT_ONSET_SECONDS, DRIFT_ONSET_SECONDS + BURST_SECONDS));
    expect(loud).toBeGreaterThan(4 * Math.max(quiet, 1));
    const dirty = bodies(blocksAt(simulator('dirty-belt'), 0, 120));
    const clean = bodies(blocksAt(simulator('clean'), 0, 120));
    expect(dirty).toBeGreaterThan(1.5 * clean);
  });
});
