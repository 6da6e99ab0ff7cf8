import { describe, expect, it } from 'vitest';
import type { BlockTruth } from '../../src/core/truth.js';
import { type DecidedWithTruth, TruthTally } from '../../src/core/truth-tally.js';

const PIXELS = 16;

/** A decided block of 16 pixels: foreign bodies by id and pixels, mask pixels set, verdict. */
function block(
  bodies: Record<number, number[]>,
  masked: number[],
  anomalous: boolean,
  cameraId = 'cam0',
): DecidedWithTruth {
  const truth: BlockTruth = {
    foreignBodies: Object.entries(bodies).map(([id, pixels]) => ({
      objectId: Number(id),
      classId: 3,
      pixels: Uint32Array.from(pixels),
    })),
  };
  const mask = new Uint8Array(PIXELS);
  for (const p of masked) mask[p] = 1;
  return { cameraId, truth, mask, decision: { anomalous } };
}

describe('TruthTally', () => {
  it('counts false alarms on clean blocks only', () => {
    const tally = new TruthTally({ minArea: 1 });
    expect(tally.observe(block({}, [1, 2], true))).toMatchObject({ clean: true, falseAlarm: true });
    tally.observe(block({}, [], false));
    tally.observe(block({ 7: [3] }, [3], true));
    expect(tally.figures()).toMatchObject({ blocks: 3, cleanBlocks: 2, falseAlarms: 1, falseAlarmRate: 0.5 });
  });

  it('counts a foreign body once across the blocks it spans, found if any of them marks it', () => {
    const tally = new TruthTally({ minArea: 4 });
    tally.observe(block({ 1: [12, 13] }, [], false));
    tally.observe(block({ 1: [0, 1] }, [1], true));
    // Still open: it might continue in the next block.
    expect(tally.figures().foreignBodies).toBe(0);
    const outcome = tally.observe(block({}, [], false));
    expect(outcome).toMatchObject({ found: 1, missed: 0 });
    expect(tally.figures()).toMatchObject({ foreignBodies: 1, found: 1, recall: 1 });
  });

  it('needs the verdict and a mask pixel on the body: a flagged block elsewhere does not find it', () => {
    const tally = new TruthTally({ minArea: 1 });
    tally.observe(block({ 1: [0, 1] }, [9, 10], true));
    tally.observe(block({ 2: [4, 5] }, [4], false));
    tally.finish();
    expect(tally.figures()).toMatchObject({ foreignBodies: 2, found: 0, recall: 0 });
  });

  it('leaves bodies smaller than minArea out, and keeps cameras apart', () => {
    const tally = new TruthTally({ minArea: 3 });
    tally.observe(block({ 1: [0, 1] }, [0], true, 'a'));
    tally.observe(block({ 1: [0, 1, 2] }, [], false, 'b'));
    tally.finish();
    expect(tally.figures()).toMatchObject({ foreignBodies: 1, found: 0 });
  });

  it('ignores blocks without truth; rates are null until they have a denominator', () => {
    const tally = new TruthTally({ minArea: 1 });
    expect(
      tally.observe({ cameraId: 'cam0', mask: new Uint8Array(PIXELS), decision: { anomalous: true } }),
    ).toBe(undefined);
    expect(tally.figures()).toMatchObject({ blocks: 0, falseAlarmRate: null, recall: null });
  });
});
