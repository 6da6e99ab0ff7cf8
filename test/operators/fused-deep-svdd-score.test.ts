import { from, lastValueFrom, type Observable, type OperatorFunction, Subject, toArray } from 'rxjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { bandpassByWavelength } from '../../operators/bandpass-by-wavelength.js';
import { fusedDeepSvddScore } from '../../operators/fused-deep-svdd-score.js';
import { perPixelUnitNorm } from '../../operators/per-pixel-unit-norm.js';
import { projectEmbeddings } from '../../operators/project-embeddings.js';
import { scoreDistance } from '../../operators/score-distance.js';
import { toTensorFrame } from '../../operators/to-tensor-frame.js';
import { type CenterMode, type TrackCenterOptions, trackCenter } from '../../operators/track-center.js';
import { zscoreNormalize } from '../../operators/zscore-normalize.js';
import { type CubeFrame, createFrame, InvalidFrameError } from '../../src/core/frame.js';
import type { ScoredFrame } from '../../src/core/scored-frame.js';
import type { TensorFrame } from '../../src/core/tensor-frame.js';
import { type DeepSvddParams, initProjection } from '../../src/model/deep-svdd-params.js';
import {
  ChannelCountError,
  ModelParamsError,
  WavelengthSelectionError,
} from '../../src/model/model-errors.js';
import { seededRandom } from '../../src/model/seeded-random.js';
import { initEngine } from '../../src/scoring/engine.js';
import type { Uint16CubeFrame } from '../../src/scoring/onnx/uint16-frame.js';
import { type Golden, loadGolden, toleranceRatio } from '../fixtures/golden/golden-fixture.js';

/** |got - ref| <= rel·|ref| + abs·max|ref| element-wise, with the worst element in the message. */
function expectClose(got: ArrayLike<number>, ref: ArrayLike<number>, rel: number, abs: number): void {
  const worst = toleranceRatio(got, ref, rel, abs);
  expect(worst.length[0], 'length').toBe(worst.length[1]);
  expect(worst.ratio, `worst at ${worst.index}: got ${worst.got}, ref ${worst.ref}`).toBeLessThanOrEqual(1);
}

function concatScores(frames: ScoredFrame[]): Float32Array {
  return Float32Array.from(frames.flatMap((frame) => Array.from(frame.scores)));
}

/** Wavelengths 430, 438, …: 61 bands up to 910 nm, 27 of them >= 700 nm. */
const WAVELENGTHS = Float32Array.from({ length: 61 }, (_, i) => 430 + 8 * i);

/** Random but reproducible Deep SVDD parameters for `channels` kept bands. */
function randomParams(seed: number, options: { unitNorm?: boolean; maxNm?: number } = {}): DeepSvddParams {
  const bandpass = { minNm: 700, ...(options.maxNm === undefined ? {} : { maxNm: options.maxNm }) };
  const kept = WAVELENGTHS.filter((w) => w >= bandpass.minNm && w <= (bandpass.maxNm ?? Infinity)).length;
  const random = seededRandom(seed);
  const unitNorm = options.unitNorm ?? true;
  return {
    wavelengthsNm: WAVELENGTHS,
    bandpass,
    unitNorm,
    zscore: {
      mean: Float32Array.from({ length: kept }, () => (unitNorm ? 0.05 : 500) * (random() - 0.5)),
      std: Float32Array.from({ length: kept }, () => (unitNorm ? 0.1 : 300) * (0.5 + random())),
    },
    project: initProjection(kept, { seed, hidden: 48, rep: 16 }),
    center: Float32Array.from({ length: 16 }, () => 0.2 * (random() - 0.5)),
  };
}

/** Frames of smooth positive spectra (counts ~ 200-3000) with noise, as uint16-valued floats. */
function randomFrames(seed: number, count: number, height = 5, width = 7, cameraIds = ['cam0']): CubeFrame[] {
  const random = seededRandom(seed);
  return Array.from({ length: count }, (_, i) => {
    const data = new Float32Array(height * width * 61);
    for (let p = 0; p < height * width; p++) {
      const level = 200 + 2000 * random();
      const slope = random() - 0.5;
      for (let b = 0; b < 61; b++) {
        data[p * 61 + b] = Math.round(level * (1 + slope * (b / 61)) + 40 * random());
      }
    }
    return createFrame({
      cameraId: cameraIds[i % cameraIds.length],
      frameId: Math.floor(i / cameraIds.length),
      capturedAt: 1_700_000_000_000 + i,
      height,
      width,
      bands: 61,
      wavelengths: WAVELENGTHS,
      data,
    });
  });
}

function asUint16(frame: CubeFrame): Uint16CubeFrame {
  return { ...frame, data: Uint16Array.from(frame.data) };
}

/** The tfjs operator chain with `params`, the reference the fused operator must match. */
function tfjsChain(
  params: DeepSvddParams,
  track: Omit<TrackCenterOptions, 'center'>,
): OperatorFunction<CubeFrame, ScoredFrame> {
  return (source) => {
    let x: Observable<TensorFrame> = source.pipe(toTensorFrame());
    if (params.bandpass !== undefined) x = x.pipe(bandpassByWavelength(params.bandpass));
    if (params.unitNorm) x = x.pipe(perPixelUnitNorm());
    return x.pipe(
      zscoreNormalize(params.zscore),
      projectEmbeddings(params.project),
      trackCenter({ ...track, center: params.center }),
      scoreDistance(),
    );
  };
}

describe('fusedDeepSvddScore', () => {
  beforeAll(async () => {
    await initEngine({ backend: 'wasm' });
  });

  describe('golden parity (test/fixtures/golden)', () => {
    let golden: Golden;
    let params: DeepSvddParams;
    let frames: CubeFrame[];

    beforeAll(() => {
      golden = loadGolden();
      params = {
        wavelengthsNm: golden.f32('input.wavelengths'),
        bandpass: { minNm: 700 },
        unitNorm: true,
        zscore: { mean: golden.f32('zscore.mean'), std: golden.f32('zscore.std') },
        project: {
          W1: golden.f32('project.W1'),
          b1: golden.f32('project.b1'),
          W2: golden.f32('project.W2'),
          hidden: 128,
          rep: 32,
        },
        center: golden.f32('center.init'),
      };
      frames = golden.frames('input.cube', golden.f32('input.wavelengths'));
    });

    it('scores input.cube like score.out (1e-4·max|ref| + 1e-5 relative), in order, with identity kept', async () => {
      const scored = await lastValueFrom(
        from(frames).pipe(fusedDeepSvddScore(params, { modelVersion: 'golden' }), toArray()),
      );
      expect(scored.map((f) => [f.cameraId, f.frameId, f.height, f.width, f.modelVersion])).toEqual([
        ['golden', 0, 8, 12, 'golden'],
        ['golden', 1, 8, 12, 'golden'],
      ]);
      expect(scored[0]?.labels).toEqual(frames[0]?.labels);
      expect(scored[0]).not.toHaveProperty('data');
      expect(scored[0]).not.toHaveProperty('wavelengths');
      expect(typeof scored[0]?.timings.fusedDeepSvddScore).toBe('number');
      expectClose(concatScores(scored), golden.f32('score.out'), 1e-5, 1e-4);
    });

    it('gives the same scores from uint16 counts when the cube holds integers (the Cast is in the graph)', async () => {
      // input.cube holds counts of 779-4226: rounded, they fit uint16 exactly.
      const rounded = frames.map((f) => ({ ...f, data: Float32Array.from(f.data, (v) => Math.round(v)) }));
      const fromFloat = await lastValueFrom(from(rounded).pipe(fusedDeepSvddScore(params), toArray()));
      const fromCounts = await lastValueFrom(
        from(rounded.map(asUint16)).pipe(fusedDeepSvddScore(params), toArray()),
      );
      expectClose(concatScores(fromCounts), concatScores(fromFloat), 1e-5, 1e-5);
      // Rounding moves each count by < 0.5 in ~2000: the scores stay near the golden ones.
      expectClose(concatScores(fromCounts), golden.f32('score.out'), 0, 0.05);
    });
  });

  describe('against the tfjs operator chain on random parameters and frames', () => {
    const cases: { name: string; params: DeepSvddParams; style?: 'ops' | 'matmul' }[] = [
      { name: 'unit norm, contiguous band-pass (Slice)', params: randomParams(1) },
      { name: 'unit norm, selection and centring as one MatMul', params: randomParams(2), style: 'matmul' },
      {
        name: 'no unit norm, band-pass 700-800 nm',
        params: randomParams(3, { unitNorm: false, maxNm: 800 }),
      },
    ];
    for (const { name, params, style } of cases) {
      it(`frozen centre: ${name}`, async () => {
        const frames = randomFrames(10, 3);
        const ref = await lastValueFrom(from(frames).pipe(tfjsChain(params, {}), toArray()));
        const got = await lastValueFrom(
          from(frames).pipe(
            fusedDeepSvddScore(params, style === undefined ? {} : { selection: style }),
            toArray(),
          ),
        );
        expectClose(concatScores(got), concatScores(ref), 1e-5, 1e-4);
      });
    }

    it('gathers scattered bands when a frame lists its wavelengths out of order', async () => {
      const params = randomParams(4);
      const order = Array.from({ length: 61 }, (_, i) => (i * 17) % 61);
      const shuffled = randomFrames(11, 2).map((f) => {
        const data = new Float32Array(f.data.length);
        for (let p = 0; p < f.height * f.width; p++) {
          order.forEach((from, to) => {
            data[p * 61 + to] = f.data[p * 61 + from] as number;
          });
        }
        return { ...f, data, wavelengths: Float32Array.from(order, (i) => WAVELENGTHS[i] as number) };
      });
      const ref = await lastValueFrom(from(shuffled).pipe(tfjsChain(params, {}), toArray()));
      const got = await lastValueFrom(from(shuffled).pipe(fusedDeepSvddScore(params), toArray()));
      expectClose(concatScores(got), concatScores(ref), 1e-5, 1e-4);
    });

    const modes: { mode: CenterMode; gate?: (camera: string) => number }[] = [
      { mode: 'ema' },
      { mode: 'gated-ema', gate: () => Number.POSITIVE_INFINITY },
    ];
    for (const { mode, gate } of modes) {
      it(`${mode}${gate === undefined ? '' : ' (gate = Infinity)'}: same centres per camera, same scores frame after frame`, async () => {
        const params = randomParams(5);
        const frames = randomFrames(12, 6, 4, 6, ['a', 'b']);
        const refUpdates: [string, Float32Array, number][] = [];
        const gotUpdates: [string, Float32Array, number][] = [];
        const track = { mode, alpha: 0.3, ...(gate === undefined ? {} : { gate }) };
        const ref = await lastValueFrom(
          from(frames).pipe(
            tfjsChain(params, { ...track, onUpdate: (c, d, cam) => refUpdates.push([cam, c, d]) }),
            toArray(),
          ),
        );
        const got = await lastValueFrom(
          from(frames).pipe(
            fusedDeepSvddScore(params, {
              centerMode: mode,
              alpha: 0.3,
              ...(gate === undefined ? {} : { gate }),
              onUpdate: (c, d, cam) => gotUpdates.push([cam, c, d]),
            }),
            toArray(),
          ),
        );
        expect(gotUpdates.map((u) => u[0])).toEqual(['a', 'b', 'a', 'b', 'a', 'b']);
        expect(gotUpdates.map((u) => u[0])).toEqual(refUpdates.map((u) => u[0]));
        gotUpdates.forEach(([, c, d], i) => {
          const [, refC, refD] = refUpdates[i] as [string, Float32Array, number];
          expectClose(c, refC, 1e-5, 1e-5);
          expect(d).toBeCloseTo(refD, 5);
        });
        expect(gotUpdates[0]?.[2]).toBeGreaterThan(0);
        expectClose(concatScores(got), concatScores(ref), 1e-5, 1e-4);
      });
    }

    it('gated-ema: averages only pixels scoring below τ, read per camera; no update when none passes', async () => {
      const params = randomParams(6);
      const frames = randomFrames(13, 4, 4, 6, ['a', 'b']);
      // τ between the two middle scores of the frozen chain: about half the pixels pass, and no
      // pixel sits on τ (where rounding differences between the engines would flip it).
      const frozen = await lastValueFrom(from(frames).pipe(fusedDeepSvddScore(params), toArray()));
      const sorted = [...(frozen[0]?.scores ?? [])].sort((p, q) => p - q);
      const middle = Math.floor(sorted.length / 2);
      const median = ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
      const gate = (camera: string): number => (camera === 'a' ? median : 0);
      const refUpdates: [string, Float32Array][] = [];
      const gotUpdates: [string, Float32Array][] = [];
      await lastValueFrom(
        from(frames).pipe(
          tfjsChain(params, {
            mode: 'gated-ema',
            alpha: 0.5,
            gate,
            onUpdate: (c, _d, cam) => refUpdates.push([cam, c]),
          }),
          toArray(),
        ),
      );
      await lastValueFrom(
        from(frames).pipe(
          fusedDeepSvddScore(params, {
            centerMode: 'gated-ema',
            alpha: 0.5,
            gate,
            onUpdate: (c, _d, cam) => gotUpdates.push([cam, c]),
          }),
          toArray(),
        ),
      );
      // Camera b's τ = 0 lets no pixel through: never updated.
      expect(gotUpdates.map((u) => u[0])).toEqual(['a', 'a']);
      expect(refUpdates.map((u) => u[0])).toEqual(['a', 'a']);
      gotUpdates.forEach(([, c], i) => {
        expectClose(c, refUpdates[i]?.[1] ?? [], 1e-5, 1e-5);
      });
    });
  });

  describe('bad frames and options raise the tfjs chain’s named errors', () => {
    const params = randomParams(7);

    it('a frame whose band-pass keeps another band count: ChannelCountError from zscoreNormalize', async () => {
      const [frame] = randomFrames(14, 1);
      if (frame === undefined) throw new Error('no frame');
      const shifted = { ...frame, wavelengths: Float32Array.from(WAVELENGTHS, (w) => w + 40) };
      const error = await lastValueFrom(from([shifted]).pipe(fusedDeepSvddScore(params))).catch((e) => e);
      expect(error).toBeInstanceOf(ChannelCountError);
      expect(error).toMatchObject({ stage: 'zscoreNormalize', expected: 27, got: 32, code: 'bands' });
    });

    it('band indices instead of nm, or no band in range: WavelengthSelectionError from bandpassByWavelength', async () => {
      const [frame] = randomFrames(15, 1);
      if (frame === undefined) throw new Error('no frame');
      const indexed = { ...frame, wavelengthUnits: 'index' as const };
      const blue = { ...frame, wavelengths: Float32Array.from(WAVELENGTHS, (w) => w - 500) };
      for (const bad of [indexed, blue]) {
        const error = await lastValueFrom(from([bad]).pipe(fusedDeepSvddScore(params))).catch((e) => e);
        expect(error).toBeInstanceOf(WavelengthSelectionError);
        expect(error).toMatchObject({ stage: 'bandpassByWavelength', code: 'wavelengths' });
      }
    });

    it('data of the wrong length or type, or too few wavelengths: InvalidFrameError', async () => {
      const [frame] = randomFrames(16, 1);
      if (frame === undefined) throw new Error('no frame');
      const short = { ...frame, data: frame.data.subarray(1) };
      const ints = { ...frame, data: Int32Array.from(frame.data) } as unknown as CubeFrame;
      for (const bad of [short, ints]) {
        const error = await lastValueFrom(from([bad]).pipe(fusedDeepSvddScore(params))).catch((e) => e);
        expect(error).toBeInstanceOf(InvalidFrameError);
        expect(error).toMatchObject({ code: 'shape', field: 'data' });
      }
      const fewer = { ...frame, wavelengths: WAVELENGTHS.subarray(1) };
      const error = await lastValueFrom(from([fewer]).pipe(fusedDeepSvddScore(params))).catch((e) => e);
      expect(error).toBeInstanceOf(InvalidFrameError);
      expect(error).toMatchObject({ code: 'wavelengths', field: 'wavelengths' });
    });

    it('bad params or centre options fail at build time with ModelParamsError naming them', () => {
      expect(() => fusedDeepSvddScore(params, { centerMode: 'gated-ema' })).toThrow(/center\.gate/);
      expect(() => fusedDeepSvddScore(params, { alpha: 2, centerMode: 'ema' })).toThrow(ModelParamsError);
      const badStd = { ...params, zscore: { ...params.zscore, std: new Float32Array(27) } };
      expect(() => fusedDeepSvddScore(badStd)).toThrow(/zscore\.std\[0\]/);
    });
  });

  it('without a band-pass keeps every band, whatever the units', async () => {
    const base = randomParams(8);
    const params: DeepSvddParams = {
      ...base,
      bandpass: undefined,
      wavelengthUnits: 'index',
      zscore: { mean: new Float32Array(61).fill(0.01), std: new Float32Array(61).fill(0.1) },
      project: initProjection(61, { seed: 8, hidden: 48, rep: 16 }),
    };
    const frames = randomFrames(17, 2).map((f) => ({ ...f, wavelengthUnits: 'index' as const }));
    const ref = await lastValueFrom(from(frames).pipe(tfjsChain(params, {}), toArray()));
    const got = await lastValueFrom(from(frames).pipe(fusedDeepSvddScore(params), toArray()));
    expectClose(concatScores(got), concatScores(ref), 1e-5, 1e-4);
  });

  it('keeps frame order while runs are asynchronous, and serves later subscribers after a finalize', async () => {
    const params = randomParams(9);
    const frames = randomFrames(18, 8, 16, 16);
    const operator = fusedDeepSvddScore(params);
    const input = new Subject<CubeFrame>();
    const done = lastValueFrom(input.pipe(operator, toArray()));
    for (const frame of frames) input.next(frame);
    input.complete();
    const first = await done;
    expect(first.map((f) => f.capturedAt)).toEqual(frames.map((f) => f.capturedAt));
    // A second subscription of the same operator builds its own sessions (the first released them).
    const again = await lastValueFrom(from(frames.slice(0, 2)).pipe(operator, toArray()));
    expect(Array.from(again[1]?.scores ?? [])).toEqual(Array.from(first[1]?.scores ?? []));
  });

  it('accepts block views into a larger buffer (typed-array offsets are honoured)', async () => {
    const params = randomParams(10);
    const [frame] = randomFrames(19, 1, 8, 5);
    if (frame === undefined) throw new Error('no frame');
    const counts = Uint16Array.from(frame.data);
    const rowValues = 5 * 61;
    const blocks: Uint16CubeFrame[] = [0, 3, 6].map((row) => ({
      ...frame,
      rowOffset: row,
      height: Math.min(3, 8 - row),
      data: counts.subarray(row * rowValues, Math.min(8, row + 3) * rowValues),
    }));
    const whole = await lastValueFrom(from([asUint16(frame)]).pipe(fusedDeepSvddScore(params), toArray()));
    const parts = await lastValueFrom(from(blocks).pipe(fusedDeepSvddScore(params), toArray()));
    expectClose(concatScores(parts), whole[0]?.scores ?? [], 1e-6, 1e-6);
  });

  it('scores a block in chunks (views into its data) with the same scores and centre updates as in one run', async () => {
    const params = randomParams(11);
    const frames = randomFrames(20, 3, 6, 9).map(asUint16);
    const updates = (into: Float32Array[]) => ({
      centerMode: 'ema' as const,
      alpha: 0.2,
      onUpdate: (c: Float32Array) => into.push(c),
    });
    const wholeUpdates: Float32Array[] = [];
    const chunkUpdates: Float32Array[] = [];
    const whole = await lastValueFrom(
      from(frames).pipe(
        fusedDeepSvddScore(params, { ...updates(wholeUpdates), chunkPixels: 1000 }),
        toArray(),
      ),
    );
    const chunked = await lastValueFrom(
      from(frames).pipe(fusedDeepSvddScore(params, { ...updates(chunkUpdates), chunkPixels: 7 }), toArray()),
    );
    expect(chunked.map((f) => f.scores.length)).toEqual([54, 54, 54]);
    expectClose(concatScores(chunked), concatScores(whole), 1e-6, 1e-6);
    expect(chunkUpdates).toHaveLength(3);
    chunkUpdates.forEach((c, i) => {
      expectClose(c, wholeUpdates[i] ?? [], 1e-6, 1e-6);
    });
  });
});

describe('fusedDeepSvddScore on worker threads', () => {
  it('gives the scores and gated centre updates of the in-thread session, frame for frame', async () => {
    const params = randomParams(12);
    const frames = randomFrames(21, 4, 40, 50, ['cam0', 'cam1']).map(asUint16);
    // Gate at the median score, so that about half of every frame updates the centre.
    const frozen = await lastValueFrom(
      from(frames).pipe(fusedDeepSvddScore(params, { workers: 0 }), toArray()),
    );
    const sorted = concatScores(frozen).sort();
    const median = sorted[sorted.length >> 1] ?? 0;
    const run = async (workers: number): Promise<{ scored: ScoredFrame[]; updates: Float32Array[] }> => {
      const updates: Float32Array[] = [];
      const scored = await lastValueFrom(
        from(frames).pipe(
          fusedDeepSvddScore(params, {
            workers,
            chunkPixels: 512,
            centerMode: 'gated-ema',
            alpha: 0.2,
            gate: () => median,
            onUpdate: (c) => updates.push(c),
          }),
          toArray(),
        ),
      );
      return { scored, updates };
    };
    const inThread = await run(0);
    const pooled = await run(2);
    expect(pooled.scored.map((f) => [f.cameraId, f.frameId])).toEqual(
      inThread.scored.map((f) => [f.cameraId, f.frameId]),
    );
    expectClose(concatScores(pooled.scored), concatScores(inThread.scored), 1e-6, 1e-6);
    expect(pooled.updates).toHaveLength(inThread.updates.length);
    expect(pooled.updates.length).toBeGreaterThan(0);
    pooled.updates.forEach((c, i) => {
      expectClose(c, inThread.updates[i] ?? [], 1e-6, 1e-6);
    });
  });

  it('prepares bands in the WASM kernel (default) as the graph nodes do, with and without unit norm', async () => {
    for (const unitNorm of [true, false]) {
      const params = randomParams(14, { unitNorm });
      const frames = randomFrames(22, 2, 30, 40);
      for (const input of [frames, frames.map(asUint16)]) {
        const run = (bandPrep: 'wasm' | 'graph') =>
          lastValueFrom(from(input).pipe(fusedDeepSvddScore(params, { bandPrep }), toArray()));
        const [wasm, graph] = [await run('wasm'), await run('graph')];
        expectClose(concatScores(wasm), concatScores(graph), 1e-5, 1e-6);
      }
    }
  });

  it('rejects a bad worker count when the operator is built', () => {
    expect(() => fusedDeepSvddScore(randomParams(1), { workers: -1 })).toThrow(/workers = -1/);
    expect(() => fusedDeepSvddScore(randomParams(1), { workers: 1.5 })).toThrow(/workers = 1.5/);
  });
});
