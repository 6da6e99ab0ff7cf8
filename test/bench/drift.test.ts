import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { type DriftBlockRecord, driftFigures, windowedFalseAlarmRate } from '../../bench/drift-metrics.js';
import { DEFAULT_DRIFT_VARIANT, DRIFT_VARIANTS, runDrift } from '../../bench/drift-scenario.js';

const block = (second: number, over: Partial<DriftBlockRecord> = {}): DriftBlockRecord => ({
  second,
  tau: 1,
  centerDrift: 0,
  clean: true,
  flagged: false,
  found: 0,
  missed: 0,
  ...over,
});

describe('drift figures', () => {
  it('counts false alarms on clean blocks and recall over settled foreign bodies', () => {
    const blocks = [
      block(0, { flagged: true }),
      block(1),
      block(2, { clean: false, flagged: true, found: 2 }),
      block(3, { missed: 1 }),
    ];
    expect(driftFigures(blocks)).toMatchObject({
      cleanBlocks: 3,
      falseAlarms: 1,
      falseAlarmRate: 1 / 3,
      foreignBodies: 3,
      found: 2,
      recall: 2 / 3,
      recoverySeconds: null,
      recallAfterBurst: null,
    });
  });

  it('measures recovery from the onset to the last false alarm after it, and τ drift after the first minute', () => {
    const blocks = Array.from({ length: 200 }, (_, s) =>
      block(s, { flagged: s === 20 || s === 105 || s === 112, tau: s < 60 ? 5 : 2 + s / 100 }),
    );
    const figures = driftFigures(blocks, 100);
    expect(figures.recoverySeconds).toBe(13);
    expect(figures.tauStart).toBe(2.6);
    expect(figures.tauDrift).toBeCloseTo(3.99 / 2.6 - 1, 9);
    expect(driftFigures(blocks.slice(0, 100), 50).recoverySeconds).toBe(0);
  });

  it('reports recall in the window after a burst', () => {
    const blocks = [block(10, { missed: 1 }), block(70, { found: 3, missed: 1 }), block(500, { missed: 5 })];
    expect(driftFigures(blocks, undefined, [0, 60]).recallAfterBurst).toBe(0.75);
  });

  it('windows the false-alarm rate, NaN where a window has no clean block', () => {
    const rates = windowedFalseAlarmRate(
      [block(0, { flagged: true }), block(1), block(2, { clean: false })],
      2,
    );
    expect(rates[0]).toBe(0.5);
    expect(rates[1]).toBeNaN();
  });
});

describe('runDrift', () => {
  it('runs every variant on a scenario against the truth and draws its plots', async () => {
    const outDir = await mkdtemp(path.join(tmpdir(), 'drift-'));
    try {
      const result = await runDrift({ seconds: 30, blockRows: 16, scenarios: ['dirty-belt'], outDir });
      expect(result.name).toBe('drift');
      expect(result.variants.map((v) => v.name)).toEqual(Object.keys(DRIFT_VARIANTS));
      const byName = new Map(result.variants.map((v) => [v.name, v]));
      const standard = byName.get(DEFAULT_DRIFT_VARIANT);
      // A dirty belt: foreign bodies in most blocks, the default finds nearly all of them.
      expect(standard?.foreignBodies).toBeGreaterThan(20);
      expect(standard?.recall).toBeGreaterThan(0.9);
      // Each block is simulated once and fed to every variant: they all judge the same foreign bodies.
      for (const v of result.variants)
        expect([v.name, v.foreignBodies]).toEqual([v.name, standard?.foreignBodies]);
      expect((await readdir(outDir)).sort()).toEqual(
        ['center-drift', 'false-alarm-rate', 'recall', 'tau'].map((w) => `dirty-belt-${w}.png`).sort(),
      );
    } finally {
      await rm(outDir, { recursive: true, force: true });
    }
  }, 120_000);
});
