import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BUNDLE_SCHEMA,
  BundleError,
  loadBundle,
  type ModelBundle,
  requireWeight,
  saveBundle,
} from '../../src/model/bundle.js';

let root = '';
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'cubestream-bundle-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

function bundle(): ModelBundle {
  return {
    manifest: {
      schema: BUNDLE_SCHEMA,
      version: 'test-1',
      detector: 'deep-svdd',
      createdAt: '2026-11-29T00:00:00.000Z',
      input: { bands: 3, wavelengths: [500, 600, 700], wavelengthUnits: 'nm' },
      stages: [{ kind: 'bandpass', minNm: 550 }, { kind: 'score' }],
    },
    weights: new Map([['center.c', { dtype: 'F32', shape: [2], data: Float32Array.of(0.5, -1) }]]),
    calibration: { threshold: 3.5, quantile: 0.999, margin: 1, scoreQuantiles: { '0.5': 1 }, pixels: 10 },
    card: { data: 'unit test' },
  };
}

describe('model bundle', () => {
  it('saves and loads the four files with hashes', async () => {
    const dir = join(root, 'ok');
    const saved = await saveBundle(dir, bundle());
    const loaded = await loadBundle(dir);
    expect(loaded.manifest).toEqual(bundle().manifest);
    expect(loaded.calibration.threshold).toBe(3.5);
    expect(loaded.weightsSha256).toBe(saved.weightsSha256);
    expect([...requireWeight(loaded, 'center.c', 2).data]).toEqual([0.5, -1]);
    const card = JSON.parse(await readFile(join(dir, 'model-card.json'), 'utf8'));
    expect(card).toMatchObject({
      data: 'unit test',
      version: 'test-1',
      hashes: { weightsSha256: saved.weightsSha256 },
    });
    expect(() => requireWeight(loaded, 'project.W1')).toThrow(
      'model bundle: weight "project.W1" is missing from weights.safetensors',
    );
    expect(() => requireWeight(loaded, 'center.c', 3)).toThrow('has 2 values, expected 3');
  });

  it('refuses another schema version', async () => {
    const dir = join(root, 'schema');
    await saveBundle(dir, bundle());
    const text = await readFile(join(dir, 'pipeline.yaml'), 'utf8');
    await writeFile(join(dir, 'pipeline.yaml'), text.replace(BUNDLE_SCHEMA, 'cubestream.bundle/99'));
    await expect(loadBundle(dir)).rejects.toThrow(
      `schema "cubestream.bundle/99" is not supported (this cubestream reads ${BUNDLE_SCHEMA})`,
    );
  });

  it('detects changed weights and missing files', async () => {
    const dir = join(root, 'tampered');
    await saveBundle(dir, bundle());
    const weights = await readFile(join(dir, 'weights.safetensors'));
    weights.writeUInt8(weights.readUInt8(weights.length - 1) ^ 0xff, weights.length - 1);
    await writeFile(join(dir, 'weights.safetensors'), weights);
    await expect(loadBundle(dir)).rejects.toThrow(
      /weights.safetensors has SHA-256 [0-9a-f]{64} but model-card.json records/,
    );
    await rm(join(dir, 'calibration.json'));
    await expect(loadBundle(join(root, 'absent'))).rejects.toThrow(BundleError);
    await expect(loadBundle(join(root, 'absent'))).rejects.toThrow(/cannot read pipeline.yaml/);
  });

  it('names a bad manifest field', async () => {
    const bad = bundle();
    await expect(
      saveBundle(join(root, 'bad'), { ...bad, manifest: { ...bad.manifest, stages: [] } }),
    ).rejects.toThrow(/stages: /);
  });
});
