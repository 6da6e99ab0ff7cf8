import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectedCameraIds, loadRunConfig, RunConfigSchema } from '../../../src/app/service/run-config.js';
import { ConfigError } from '../../../src/core/config-error.js';
import { validateConfig } from '../../../src/core/validate.js';
import { loadBundle } from '../../../src/model/bundle.js';
import { REPO_ROOT } from '../../e2e/cli-process.js';

function issues(source: Record<string, unknown>): string[] {
  try {
    validateConfig(
      RunConfigSchema,
      { source: { kind: 'genicam', ...source }, model: { path: 'm' } },
      'run.yaml',
    );
  } catch (error) {
    if (error instanceof ConfigError) return error.issues.map((i) => `${i.path}: ${i.message}`);
    throw error;
  }
  return [];
}

describe('source kind genicam in the run configuration', () => {
  it('fills every default from the camera alone', () => {
    const config = validateConfig(
      RunConfigSchema,
      { source: { kind: 'genicam', camera: '127.0.0.1' }, model: { path: 'm' } },
      'run.yaml',
    );
    expect(config.source).toEqual({
      kind: 'genicam',
      camera: '127.0.0.1',
      cameraId: 'cam0',
      features: {},
      lineLayout: 'bands-rows',
      blockRows: 64,
      maxCalibrationAgeHours: 24,
      buffers: 32,
      lostAfterMs: 3000,
      backoff: { initialMs: 500, maxMs: 5000 },
      packetResend: true,
    });
    expect(expectedCameraIds(config)).toEqual(['cam0']);
  });

  it('names each bad field by its path', () => {
    expect(issues({})).toEqual([expect.stringMatching(/^source\.camera: /)]);
    expect(issues({ camera: 'x', lineLayout: 'rows' })[0]).toMatch(/^source\.lineLayout: /);
    expect(issues({ camera: 'x', features: { pixelFormat: 'RGB8' } })[0]).toMatch(
      /^source\.features\.pixelFormat: /,
    );
    expect(issues({ camera: 'x', features: { widht: 5 } })[0]).toMatch(/^source\.features: /);
    expect(issues({ camera: 'x', wavelengths: [] })[0]).toMatch(/^source\.wavelengths/);
    expect(issues({ camera: 'x', wavelengths: { hdr: 'a.hdr' } })[0]).toMatch(/^source\.wavelengths/);
    expect(issues({ camera: 'x', blockRows: 0 })[0]).toMatch(/^source\.blockRows: /);
    expect(issues({ camera: 'x', lines: 5 })[0]).toMatch(/^source: /);
    expect(issues({ camera: 'x', wavelengths: { enviHeader: 'fx10.hdr' }, calibration: 'refs' })).toEqual([]);
  });

  it('configs/run/genicam-fake.yaml: the fake camera at 1024 x 224 Mono16 into the genicam-fake bundle', async () => {
    const config = await loadRunConfig(join(REPO_ROOT, 'configs/run/genicam-fake.yaml'));
    expect(config.source).toMatchObject({
      kind: 'genicam',
      camera: '127.0.0.1',
      features: { width: 1024, height: 224, pixelFormat: 'Mono16' },
      lineLayout: 'bands-rows',
    });
    expect(config.sinks.mqtt?.url).toBe('mqtt://127.0.0.1:1883');
    const bundle = await loadBundle(join(REPO_ROOT, config.model.path));
    expect(bundle.manifest.input).toMatchObject({
      bands: 224,
      wavelengthUnits: 'index',
      radiometry: 'counts',
    });
  });
});
