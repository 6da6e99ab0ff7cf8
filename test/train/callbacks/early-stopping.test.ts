import { describe, expect, it } from 'vitest';
import { OptionError } from '../../../src/core/options.js';
import { runCallbacks } from '../../../src/train/callbacks/callback.js';
import { EarlyStopping } from '../../../src/train/callbacks/early-stopping.js';
import { MonitorMetricError } from '../../../src/train/train-errors.js';

/**
 * Feeds a scripted metric sequence, epochs numbered from 1 as the trainer numbers them; returns
 * the epoch at which a stop was asked (or 0).
 */
function stopEpoch(callback: EarlyStopping, values: number[], metric = 'val_loss'): number {
  for (const [i, value] of values.entries()) {
    if (callback.onEpochEnd(i + 1, { [metric]: value }).stop === true) return i + 1;
  }
  return 0;
}

describe('EarlyStopping', () => {
  it('stops after `patience` epochs without improvement (mode min)', () => {
    const early = new EarlyStopping({ monitor: 'val_loss', patience: 2 });
    const fresh = new EarlyStopping({ monitor: 'val_loss', patience: 2 });
    expect([fresh.bestEpoch, fresh.stoppedEpoch]).toEqual([0, 0]);
    expect(stopEpoch(early, [5, 4, 4.5, 3, 3.1, 3.2, 1])).toBe(6);
    expect(early.best).toBe(3);
    expect(early.bestEpoch).toBe(4);
    expect(early.stoppedEpoch).toBe(6);
  });

  it('names the last improvement by more than minDelta in its reason', async () => {
    const early = new EarlyStopping({ monitor: 'val_auroc', mode: 'max', patience: 2, minDelta: 1e-4 });
    await runCallbacks([early], 1, { val_auroc: 0.99999885 });
    await runCallbacks([early], 2, { val_auroc: 1 });
    const result = await runCallbacks([early], 3, { val_auroc: 1 });
    expect(result.reasons).toEqual([
      'val_auroc did not improve by more than 0.0001 for 2 epochs (last such improvement: 0.999999 at epoch 1)',
    ]);
  });

  it('counts changes within minDelta as no improvement; NaN never improves', () => {
    expect(
      stopEpoch(new EarlyStopping({ monitor: 'val_loss', patience: 2, minDelta: 0.5 }), [5, 4.8, 4.6, 4]),
    ).toBe(3);
    expect(
      stopEpoch(new EarlyStopping({ monitor: 'val_loss', patience: 2 }), [5, Number.NaN, Number.NaN]),
    ).toBe(3);
  });

  it('follows mode max', () => {
    const early = new EarlyStopping({ monitor: 'val_auroc', mode: 'max', patience: 1 });
    expect(stopEpoch(early, [0.7, 0.8, 0.9, 0.85], 'val_auroc')).toBe(4);
    expect(early.best).toBe(0.9);
  });

  it('reports the stop through runCallbacks with a reason', async () => {
    const early = new EarlyStopping({ monitor: 'loss', patience: 1 });
    await runCallbacks([early], 1, { loss: 1 });
    const result = await runCallbacks([early], 2, { loss: 2 });
    expect(result.stop).toBe(true);
    expect(result.reasons[0]).toBe('loss did not improve for 1 epochs (best 1 at epoch 1)');
  });

  it('names a missing metric and bad options', () => {
    const early = new EarlyStopping({ monitor: 'val_auroc' });
    expect(() => early.onEpochEnd(0, { loss: 1 })).toThrow(MonitorMetricError);
    expect(() => early.onEpochEnd(0, { loss: 1 })).toThrow(/"val_auroc".*have: loss/);
    expect(() => new EarlyStopping({ patience: -1 })).toThrow(/earlyStopping\.patience/);
    expect(() => new EarlyStopping({ mode: 'up' as 'min' })).toThrow(OptionError);
  });
});
