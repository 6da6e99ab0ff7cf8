import { describe, expect, it } from 'vitest';
import { OptionError } from '../../../src/core/options.js';
import type { LearningRateControl } from '../../../src/train/adamw.js';
import { ReduceLROnPlateau } from '../../../src/train/callbacks/reduce-lr-on-plateau.js';

/** A plain learning-rate holder with two groups (the optimizer's interface, no tensors needed). */
function rates(...initial: number[]): LearningRateControl & { values: number[] } {
  const values = [...initial];
  return {
    values,
    learningRates: () => [...values],
    setLearningRate(lr, group) {
      if (group === undefined) values.fill(lr);
      else values[group] = lr;
    },
  };
}

describe('ReduceLROnPlateau', () => {
  it('lowers every group by factor after more than `patience` bad epochs (PyTorch semantics)', () => {
    const target = rates(1e-2, 1e-3);
    const plateau = new ReduceLROnPlateau(target, { monitor: 'loss', factor: 0.5, patience: 2 });
    const history: number[][] = [];
    [1, 0.9, 0.95, 0.95, 0.95, 0.96, 0.97, 0.98].forEach((loss, epoch) => {
      plateau.onEpochEnd(epoch, { loss });
      history.push(target.learningRates());
    });
    expect(plateau.reductions).toEqual([4, 7]);
    expect(history[3]).toEqual([1e-2, 1e-3]);
    expect(history[4]).toEqual([5e-3, 5e-4]);
    expect(history[7]).toEqual([2.5e-3, 2.5e-4]);
  });

  it('waits `cooldown` epochs after a reduction and never goes below minLr', () => {
    const target = rates(1);
    const plateau = new ReduceLROnPlateau(target, { factor: 0.1, patience: 0, cooldown: 2, minLr: 0.005 });
    const lrs = [5, 6, 6, 6, 6, 6, 6, 6, 6].map((loss, epoch) => {
      plateau.onEpochEnd(epoch, { loss });
      return target.values[0];
    });
    // Bad at 1 -> reduce; epochs 2, 3 cool down; bad at 4 -> reduce; 5, 6 cool; 7 -> floor 0.005.
    expect(lrs).toEqual(
      [1, 0.1, 0.1, 0.1, 0.01, 0.01, 0.01, 0.005, 0.005].map((lr) => expect.closeTo(lr, 12)),
    );
    expect(plateau.reductions).toEqual([1, 4, 7]);
  });

  it('follows mode max with minDelta', () => {
    const target = rates(1);
    const plateau = new ReduceLROnPlateau(target, {
      monitor: 'auroc',
      mode: 'max',
      minDelta: 0.01,
      patience: 1,
      factor: 0.5,
    });
    for (const [epoch, auroc] of [0.8, 0.805, 0.809].entries()) plateau.onEpochEnd(epoch, { auroc });
    expect(target.values[0]).toBe(0.5);
  });

  it('rejects a factor outside (0, 1) and negative settings', () => {
    expect(() => new ReduceLROnPlateau(rates(1), { factor: 1 })).toThrow(/reduceLrOnPlateau\.factor/);
    expect(() => new ReduceLROnPlateau(rates(1), { cooldown: -1 })).toThrow(OptionError);
    expect(() => new ReduceLROnPlateau(rates(1), { minLr: -1 })).toThrow(/minLr/);
  });
});
