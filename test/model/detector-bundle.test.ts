import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BundleError, loadBundle, saveBundle } from '../../src/model/bundle.js';
import { initProjection, initResidualProjection } from '../../src/model/deep-svdd-params.js';
import {
  deepSvddFromBundle,
  deepSvddToBundle,
  rxFromBundle,
  rxToBundle,
} from '../../src/model/detector-bundle.js';
import { seededRandom } from '../../src/model/seeded-random.js';

const calibration = { threshold: 2, quantile: 0.999, margin: 1, scoreQuantiles: { '0.999': 2 }, pixels: 100 };
let root = '';
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'cubestream-detector-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('detector bundles', () => {
  it('round-trips Deep SVDD parameters through the folder', async () => {
    const wavelengthsNm = Float32Array.from({ length: 11 }, (_, i) => 600 + 20 * i);
    const project = initProjection(6, { hidden: 8, rep: 4, seed: 3 });
    const params = {
      wavelengthsNm,
      bandpass: { minNm: 700 },
      unitNorm: false,
      zscore: { mean: new Float32Array(6).fill(0.5), std: new Float32Array(6).fill(2) },
      project,
      center: Float32Array.of(1, 2, 3, 4),
    };
    const dir = join(root, 'svdd');
    await saveBundle(
      dir,
      deepSvddToBundle(params, { version: 'svdd-1', calibration, card: { data: 'test' } }),
    );
    const loaded = await loadBundle(dir);
    const back = deepSvddFromBundle(loaded);
    expect(back.bandpass).toEqual({ minNm: 700 });
    expect(back.unitNorm).toBe(false);
    expect([...back.project.W1]).toEqual([...project.W1]);
    expect([...back.center]).toEqual([1, 2, 3, 4]);
    expect(loaded.manifest.stages.map((s) => s.kind)).toEqual([
      'bandpass',
      'unitNorm',
      'zscore',
      'project',
      'center',
      'score',
    ]);
    expect(() => rxFromBundle(loaded)).toThrow(BundleError);
  });

  it('round-trips the issue-5 stages: whitening and a residual projection', async () => {
    const random = seededRandom(4);
    const whiten = {
      mean: Float32Array.from({ length: 5 }, () => random()),
      matrix: Float32Array.from({ length: 15 }, () => random() - 0.5),
      components: 3,
    };
    const project = { ...initResidualProjection(3, { hidden: 6, seed: 2 }) };
    const trained = { ...project, W2: Float32Array.from(project.W2, () => random() - 0.5) };
    const params = {
      wavelengthsNm: Float32Array.from({ length: 5 }, (_, i) => i),
      wavelengthUnits: 'index' as const,
      unitNorm: false,
      zscore: { mean: new Float32Array(5).fill(0.5), std: new Float32Array(5).fill(2) },
      whiten,
      project: trained,
      center: new Float32Array(3),
    };
    const dir = join(root, 'svdd-whiten');
    await saveBundle(dir, deepSvddToBundle(params, { version: 'svdd-w', calibration }));
    const loaded = await loadBundle(dir);
    expect(loaded.manifest.stages.map((s) => s.kind)).toEqual([
      'bandpass',
      'unitNorm',
      'zscore',
      'whiten',
      'project',
      'center',
      'score',
    ]);
    const back = deepSvddFromBundle(loaded);
    expect(back.whiten?.components).toBe(3);
    expect([...(back.whiten?.matrix ?? [])]).toEqual([...whiten.matrix]);
    expect([...(back.whiten?.mean ?? [])]).toEqual([...whiten.mean]);
    expect(back.project.residual).toBe(true);
    expect([...back.project.W2]).toEqual([...trained.W2]);
    // A reference-settings bundle has neither.
    const plain = deepSvddFromBundle(
      deepSvddToBundle(
        {
          ...params,
          whiten: undefined,
          project: initProjection(5, { hidden: 4, rep: 2 }),
          center: new Float32Array(2),
        },
        { version: 'plain', calibration },
      ),
    );
    expect([plain.whiten, plain.project.residual]).toEqual([undefined, undefined]);
  });

  it('round-trips an RX model in float64', async () => {
    const rx = { bands: 2, mean: Float64Array.of(0.1, 0.2), covInverse: Float64Array.of(1, 1e-12, 1e-12, 3) };
    const dir = join(root, 'rx');
    await saveBundle(
      dir,
      rxToBundle(
        { rx, wavelengths: Float32Array.of(0, 1), wavelengthUnits: 'index' },
        { version: 'rx-1', calibration },
      ),
    );
    const back = rxFromBundle(await loadBundle(dir));
    expect([...back.rx.covInverse]).toEqual([1, 1e-12, 1e-12, 3]);
    expect(back.wavelengthUnits).toBe('index');
  });

  it('records the radiometry it was trained on in input, and leaves it out when not given', async () => {
    const rx = { bands: 2, mean: Float64Array.of(0.1, 0.2), covInverse: Float64Array.of(1, 0, 0, 1) };
    const detector = { rx, wavelengths: Float32Array.of(500, 600), wavelengthUnits: 'nm' as const };
    const stated = join(root, 'rx-reflectance');
    await saveBundle(
      stated,
      rxToBundle(detector, { version: 'rx-r', calibration, radiometry: 'reflectance' }),
    );
    expect((await readFile(join(stated, 'pipeline.yaml'), 'utf8')).includes('radiometry: reflectance')).toBe(
      true,
    );
    expect((await loadBundle(stated)).manifest.input.radiometry).toBe('reflectance');
    const params = {
      wavelengthsNm: Float32Array.of(700, 710),
      unitNorm: true,
      zscore: { mean: new Float32Array(2), std: new Float32Array(2).fill(1) },
      project: initProjection(2, { hidden: 3, rep: 2 }),
      center: new Float32Array(2),
    };
    const counts = join(root, 'svdd-counts');
    await saveBundle(counts, deepSvddToBundle(params, { version: 'c', calibration, radiometry: 'counts' }));
    expect((await loadBundle(counts)).manifest.input.radiometry).toBe('counts');
    const unstated = join(root, 'rx-unstated');
    await saveBundle(unstated, rxToBundle(detector, { version: 'rx-u', calibration }));
    expect((await readFile(join(unstated, 'pipeline.yaml'), 'utf8')).includes('radiometry')).toBe(false);
    expect('radiometry' in (await loadBundle(unstated)).manifest.input).toBe(false);
  });

  it('refuses a pipeline.yaml whose input states another radiometry', async () => {
    const dir = join(root, 'rx-bad-radiometry');
    const rx = { bands: 1, mean: Float64Array.of(0), covInverse: Float64Array.of(1) };
    await saveBundle(
      dir,
      rxToBundle(
        { rx, wavelengths: Float32Array.of(0), wavelengthUnits: 'index' },
        { version: 'b', calibration },
      ),
    );
    const yaml = await readFile(join(dir, 'pipeline.yaml'), 'utf8');
    await writeFile(
      join(dir, 'pipeline.yaml'),
      yaml.replace('wavelengthUnits: index', 'wavelengthUnits: index\n  radiometry: radiance'),
    );
    await expect(loadBundle(dir)).rejects.toThrow(/input\.radiometry/);
  });

  it('names a mis-sized weight', async () => {
    const params = {
      wavelengthsNm: Float32Array.of(700, 710),
      bandpass: { minNm: 700 },
      unitNorm: true,
      zscore: { mean: new Float32Array(2), std: new Float32Array(2).fill(1) },
      project: initProjection(2, { hidden: 3, rep: 2 }),
      center: new Float32Array(2),
    };
    const bundle = deepSvddToBundle(params, { version: 'v', calibration });
    const weights = new Map(bundle.weights);
    weights.set('center.c', { dtype: 'F32', shape: [3], data: new Float32Array(3) });
    expect(() => deepSvddFromBundle({ ...bundle, weights })).toThrow(
      'weight "center.c" has 3 values, expected 2',
    );
  });
});
