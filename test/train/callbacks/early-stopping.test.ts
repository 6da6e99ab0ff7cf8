import { describe, expect, it } from 'vitest';
import { OptionError } from '../../../src/core/options.js';
import { runCallbacks } from '../../../src/train/callbacks/callback.js';
import { EarlyStopping } from '../../../src/train/callbacks/early-stopping.js';
import { MonitorMetricError } from '../../../src/train/train-errors.js';

/** Feeds a scripted metric sequence; returns the epoch at which a stop was asked (or -1). */
function stopEpoch(callback: EarlyStopping, values: number[], metric = 'val_loss'): number {
  for (const [epoch, value] of values.entries()) {
    if (callback.onEpochEnd(epoch, { [metric]: value }).stop === true) return epoch;
  }
  return -1;
}

describe('EarlyStopping', () => {
  it('stops after `patience` epochs without improvement (mode min)', () => {
    const early = new EarlyStopping({ monitor: 'val_loss', patience: 2 });
    expect(stopEpoch(early, [5, 4, 4.5, 3, 3.1, 3.2, 1])).toBe(5);
    expect(early.best).toBe(3);
    expect(early.bestEpoch).toBe(3);
    expect(early.stoppedEpoch).toBe(5);
  });

  it('counts changes within minDelta as no improvement; NaN never improves', () => {
    expect(
      stopEpoch(new EarlyStopping({ monitor: 'val_loss', patience: 2, minDelta: 0.5 }), [5, 4.8, 4.6, 4]),
    ).toBe(2);
    expect(
      stopEpoch(new EarlyStopping({ monitor: 'val_loss', patience: 2 }), [5, Number.NaN, Number.NaN]),
    ).toBe(2);
  });

  it('follows mode max', () => {
    const early = new EarlyStopping({ monitor: 'val_auroc', mode: 'max', patience: 1 });
    expect(stopEpoch(early, [0.7, 0.8, 0.9, 0.85], 'val_auroc')).toBe(3);
    expect(early.best).toBe(0.9);
  });

  it('reports the stop through runCallbacks with a reason', async () => {
    const early = new EarlyStopping({ monitor: 'loss', patience: 1 });
    await runCallbacks([early], 0, { loss: 1 });
    const result = await runCallbacks([early], 1, { loss: 2 });
    expect(result.stop).toBe(true);
    expect(result.reasons[0]).toMatch(/loss did not improve for 1 epochs/);
  });

  it('names a missing metric and bad options', () => {
    const early = new EarlyStopping({ monitor: 'val_auroc' });
    expect(() => early.onEpochEnd(0, { loss: 1 })).toThrow(MonitorMetricError);
    expect(() => early.onEpochEnd(0, { loss: 1 })).toThrow(/"val_auroc".*have: loss/);
    expect(() => new EarlyStopping({ patience: -1 })).toThrow(/earlyStopping\.patience/);
    expect(() => new EarlyStopping({ mode: 'up' as 'min' })).toThrow(OptionError);
  });
});
