import * as tf from '@tensorflow/tfjs';
import { from, lastValueFrom, take, toArray } from 'rxjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { deepSvddPipeline } from '../../operators/deep-svdd-pipeline.js';
import { type CubeFrame, createFrame, type InvalidFrameError } from '../../src/core/frame.js';
import { rxToBundle } from '../../src/model/detector-bundle.js';
import { fitRx, RxStats } from '../../src/model/rx-stats.js';
import { initEngine } from '../../src/scoring/engine.js';
import { TINY_WAVELENGTHS, tinyDeepSvddBundle, tinyFrame } from '../helpers/tiny-model.js';

beforeAll(async () => {
  await initEngine();
});

/** A queue longer than any test stream: an array source delivers every frame at once. */
const roomy = { policy: 'dropOldest', capacity: 10_000 } as const;

/** 40 frames; frames 10, 20 and 30 carry a 3x3 foreign body at (5, 7 + frame/10). */
function belt(count = 40, cameraId = 'cam0'): CubeFrame[] {
  return Array.from({ length: count }, (_, i) =>
    tinyFrame({
      cameraId,
      frameId: i,
      ...(i > 0 && i % 10 === 0 ? { anomaly: { row: 5, col: 7 + i / 10, size: 3 } } : {}),
    }),
  );
}

describe.each(['tfjs', 'onnx'] as const)('deepSvddPipeline on %s', (scorer) => {
  it('decides every valid frame in order and finds the foreign bodies with their boxes', async () => {
    const bundle = tinyDeepSvddBundle();
    const decided = await lastValueFrom(
      from(belt()).pipe(deepSvddPipeline(bundle, { scorer, backpressure: roomy }), toArray()),
    );
    expect(decided.map((d) => d.frameId)).toEqual(Array.from({ length: 40 }, (_, i) => i));
    const flagged = decided.filter((d) => d.decision.anomalous).map((d) => d.frameId);
    expect(flagged).toEqual([10, 20, 30]);
    const blob = decided[20]?.decision.blobs.find((b) => b.area >= 4);
    expect(blob).toMatchObject({ x: 9, y: 5, w: 3, h: 3, area: 9 });
    expect(decided[20]?.decision).toMatchObject({
      schema: 'cubestream.decision/1',
      cameraId: 'cam0',
      modelVersion: 'tiny-1',
      pixels: 512,
    });
  });

  it('rejects bad frames with a named reason and keeps deciding the rest', async () => {
    const bundle = tinyDeepSvddBundle();
    const good = belt(6);
    const nan = { ...tinyFrame({ frameId: 100 }) };
    nan.data[17] = Number.NaN;
    const wrongBands = createFrame({
      frameId: 101,
      height: 2,
      width: 2,
      bands: 3,
      wavelengths: [700, 720, 740],
      data: new Float32Array(12),
    });
    const shifted = createFrame({
      frameId: 102,
      height: 2,
      width: 2,
      bands: 8,
      wavelengths: TINY_WAVELENGTHS.map((w) => w + 5),
      data: new Float32Array(32),
    });
    const rejected: [number, string, string][] = [];
    const frames = [good[0], nan, good[1], wrongBands, good[2], shifted, ...good.slice(3)] as CubeFrame[];
    const decided = await lastValueFrom(
      from(frames).pipe(
        deepSvddPipeline(bundle, {
          scorer,
          backpressure: roomy,
          hooks: { onReject: (f, e: InvalidFrameError) => rejected.push([f.frameId, e.code, e.message]) },
        }),
        toArray(),
      ),
    );
    expect(decided.map((d) => d.frameId)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(rejected.map(([id, code]) => [id, code])).toEqual([
      [100, 'nonfinite'],
      [101, 'bands'],
      [102, 'wavelengths'],
    ]);
    expect(rejected[1]?.[2]).toBe('invalid frame: bands = 3: the model expects 8 bands');
    expect(rejected[2]?.[2]).toContain('8 of 8 bands differ');
  });

  it('keeps tfjs tensors flat over a long stream, after rejects, and after an early unsubscribe', async () => {
    const bundle = tinyDeepSvddBundle();
    const baseline = tf.memory().numTensors;
    const frames = Array.from({ length: 300 }, (_, i) => tinyFrame({ frameId: i, height: 4, width: 8 }));
    await lastValueFrom(
      from(frames).pipe(deepSvddPipeline(bundle, { scorer, backpressure: roomy }), toArray()),
    );
    expect(tf.memory().numTensors).toBe(baseline);
    await lastValueFrom(
      from(frames).pipe(deepSvddPipeline(bundle, { scorer, backpressure: roomy }), take(5), toArray()),
    );
    expect(tf.memory().numTensors).toBe(baseline);
  });

  it('publishes τ per camera and tracks the centre online', async () => {
    const bundle = tinyDeepSvddBundle();
    const thresholds = new Map<string, number>();
    const drifts: number[] = [];
    const pipeline = deepSvddPipeline(bundle, {
      scorer,
      backpressure: roomy,
      hooks: {
        onThreshold: (camera, tau) => thresholds.set(camera, tau),
        onCenterUpdate: (_c, drift) => drifts.push(drift),
      },
    });
    const frames = [...belt(8, 'a'), ...belt(8, 'b')];
    await lastValueFrom(from(frames).pipe(pipeline, toArray()));
    expect([...thresholds.keys()].sort()).toEqual(['a', 'b']);
    expect(pipeline.thresholdState.current('a')).toBe(thresholds.get('a'));
    expect(drifts.length).toBeGreaterThan(0);
    expect(drifts.every((d) => d >= 0 && Number.isFinite(d))).toBe(true);
  });

  it('counts every frame the queue drops when the scorer falls behind', async () => {
    const dropped: number[] = [];
    const frames = belt(30);
    const decided = await lastValueFrom(
      from(frames).pipe(
        deepSvddPipeline(tinyDeepSvddBundle(), {
          scorer,
          backpressure: { policy: 'dropNewest', capacity: 2 },
          hooks: { onDrop: (f, reason) => dropped.push(f.frameId) && reason === 'queue_full_newest' },
        }),
        toArray(),
      ),
    );
    // Every frame is either decided or counted as dropped, never both, never silently lost.
    expect([...decided.map((d) => d.frameId), ...dropped].sort((a, b) => a - b)).toEqual(
      frames.map((f) => f.frameId),
    );
    if (scorer === 'onnx') expect(dropped.length).toBeGreaterThan(0); // asynchronous: an array source outruns it
  });

  it('per-frame mode flags the top share of every frame (cuvis parity)', async () => {
    const decided = await lastValueFrom(
      from(belt(3)).pipe(
        deepSvddPipeline(tinyDeepSvddBundle(), {
          scorer,
          backpressure: roomy,
          threshold: { mode: 'per-frame', q: 0.99 },
          decide: { minPixels: 1 },
        }),
        toArray(),
      ),
    );
    for (const d of decided)
      expect(d.decision.anomalousPixels).toBeGreaterThanOrEqual(Math.floor(0.01 * 512));
  });

  it('runs an RX bundle through the same pipeline', async () => {
    const stats = new RxStats(8);
    for (let i = 0; i < 4; i++) stats.add(tinyFrame({ frameId: 500 + i }).data);
    const bundle = rxToBundle(
      { rx: fitRx(stats), wavelengths: TINY_WAVELENGTHS, wavelengthUnits: 'nm' },
      {
        version: 'rx-tiny',
        calibration: { threshold: 200, quantile: 0.999, margin: 1, scoreQuantiles: {}, pixels: 2048 },
      },
    );
    const decided = await lastValueFrom(
      from(belt(21)).pipe(deepSvddPipeline(bundle, { scorer, backpressure: roomy }), toArray()),
    );
    expect(decided.filter((d) => d.decision.anomalous).map((d) => d.frameId)).toEqual([10, 20]);
    expect(decided[0]?.decision.modelVersion).toBe('rx-tiny');
  });
});

describe('chooseScorer', () => {
  it('prefers the fused graph, honours a request, and names why', async () => {
    const { chooseScorer } = await import('../../operators/deep-svdd-pipeline.js');
    const bundle = tinyDeepSvddBundle();
    expect(chooseScorer(bundle)).toEqual({ engine: 'onnx', reason: 'fused graph supports the bundle' });
    expect(chooseScorer(bundle, 'tfjs')).toEqual({ engine: 'tfjs', reason: 'requested' });
  });
});
