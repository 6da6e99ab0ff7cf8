import { describe, expect, it } from 'vitest';
import { ModelParamsError } from '../../src/model/model-errors.js';
import { buildRxGraph } from '../../src/scoring/onnx/rx-graph.js';
import { chooseScorer, createScorer } from '../../src/scoring/scorer.js';
import { tinyDeepSvddBundle } from '../helpers/tiny-model.js';

/** One 3-pixel, 1-band block for the identity RX graph (scores = x²). */
const rxRequest = {
  data: Float32Array.of(1, 2, 3),
  inputType: 'float32' as const,
  pixels: 3,
  bands: 1,
  chunkPixels: 2,
  inputName: 'x',
  scoresName: 'scores',
  feeds: {},
  outputs: [],
};
const rxGraph = () => buildRxGraph({ bands: 1, mean: new Float64Array(1), covInverse: Float64Array.of(1) });

describe('chooseScorer', () => {
  const bundle = tinyDeepSvddBundle();

  it('takes onnx when the fused graph supports the bundle, tfjs when asked or on native TensorFlow', () => {
    expect(chooseScorer(bundle, 'auto', 'wasm')).toEqual({
      engine: 'onnx',
      reason: 'fused graph supports the bundle',
    });
    expect(chooseScorer(bundle, 'auto', 'tensorflow')).toEqual({
      engine: 'tfjs',
      reason: 'native TensorFlow backend',
    });
    expect(chooseScorer(bundle, 'onnx', 'tensorflow')).toEqual({ engine: 'onnx', reason: 'requested' });
    expect(chooseScorer(bundle, 'tfjs')).toEqual({ engine: 'tfjs', reason: 'requested' });
  });

  it('refuses onnx for a detector the fused graph cannot run', () => {
    const other = { ...bundle, manifest: { ...bundle.manifest, detector: 'local-rx' } } as typeof bundle;
    expect(chooseScorer(other, 'auto', 'wasm')).toEqual({ engine: 'tfjs', reason: 'detector local-rx' });
    expect(() => chooseScorer(other, 'onnx')).toThrow(ModelParamsError);
  });
});

describe('createScorer', () => {
  const bundle = tinyDeepSvddBundle();

  it('chooses once and owns its worker pool: warm() starts it, close() stops it', async () => {
    const scorer = createScorer(bundle, { engine: 'auto', workers: 2, tfjsBackend: 'wasm' });
    expect([scorer.engine, scorer.workers]).toEqual(['onnx', 2]);
    const runner = scorer.runner;
    if (runner === undefined) throw new Error('no onnx runner');
    try {
      await scorer.warm();
      const { scores } = await runner.run('rx', rxGraph, rxRequest);
      expect(Array.from(scores)).toEqual([1, 4, 9]);
    } finally {
      await scorer.close();
    }
    await expect(runner.run('rx', rxGraph, rxRequest)).rejects.toThrow(/closed/);
    await expect(scorer.warm()).rejects.toThrow(/closed/);
  });

  it('scores in this thread with workers 0, and owns nothing on tfjs', async () => {
    const inThread = createScorer(bundle, { engine: 'onnx', workers: 0, threads: 1 });
    expect([inThread.engine, inThread.workers]).toEqual(['onnx', 0]);
    expect(inThread.runner?.describe).toBe('in-process, 1 intra-op thread(s)');
    await inThread.warm();
    await inThread.close();

    const tfjs = createScorer(bundle, { engine: 'tfjs', workers: 2 });
    expect([tfjs.engine, tfjs.workers, tfjs.runner]).toEqual(['tfjs', 0, undefined]);
    await tfjs.warm();
    await tfjs.close();
  });

  it('refuses a bad worker count when created', () => {
    expect(() => createScorer(bundle, { engine: 'onnx', workers: -1 })).toThrow(/workers = -1/);
  });
});
