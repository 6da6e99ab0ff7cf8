import { describe, expect, it } from 'vitest';
import { fusedUnsupportedReason } from '../../operators/fused-scorer-from-bundle.js';
import { deepSvddFromBundle } from '../../src/model/detector-bundle.js';
import { tinyDeepSvddBundle } from '../helpers/tiny-model.js';

describe('fusedUnsupportedReason', () => {
  it('accepts the stages of the fused graph, including whitening and a residual projection', () => {
    const params = deepSvddFromBundle(tinyDeepSvddBundle());
    expect(fusedUnsupportedReason(params)).toBeUndefined();
    const whitened = {
      ...params,
      whiten: { mean: new Float32Array(8), matrix: new Float32Array(64), components: 8 },
    };
    expect(
      fusedUnsupportedReason({ ...whitened, project: { ...params.project, residual: true } }),
    ).toBeUndefined();
  });

  it('names a stage the graph does not have, so the pipeline stays on tfjs', () => {
    const params = deepSvddFromBundle(tinyDeepSvddBundle());
    expect(fusedUnsupportedReason({ ...params, localRx: {} } as typeof params)).toBe(
      'stages localRx are not in the fused graph',
    );
  });
});
