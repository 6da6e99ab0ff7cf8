import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/config-error.js';
import { OptionError } from '../../src/core/options.js';
import { writeEnviCube } from '../../src/io/envi/index.js';
import {
  averageLines,
  loadReferences,
  ReferencesFileError,
  referenceWarnings,
  type StoredReferences,
  saveReferences,
} from '../../src/model/radiometric-references.js';

const DAY = 86_400_000;

const refs: StoredReferences = {
  width: 3,
  bands: 2,
  dark: Float32Array.of(1, 2, 3, 4, 5, 6.5),
  white: Float32Array.of(1001, 2002, 3003, 4004, 5005, 6006.25),
  takenAt: '2026-03-01T08:00:00.000Z',
  darkLines: 100,
  whiteLines: 200,
  wavelengths: [450.5, 900.25],
  settings: {
    camera: { id: 'Aravis-Fake-GV01', vendor: 'Aravis', model: 'Fake', serial: 'GV01' },
    features: { Width: 512, ExposureTime: 2000.5, PixelFormat: 'Mono16', ReverseX: false },
  },
};

let root = '';
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'cubestream-references-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('references on disk', () => {
  it('round-trips dark, white and their settings through a folder', async () => {
    const dir = join(root, 'round-trip');
    await saveReferences(dir, refs);
    const loaded = await loadReferences(dir);
    expect(loaded).toEqual(refs);
    expect(loaded.dark).toBeInstanceOf(Float32Array);
    const header = await readFile(join(dir, 'dark.hdr'), 'utf8');
    expect(header).toContain('samples = 3');
    expect(header).toContain('lines = 1');
    expect(header).toContain('bands = 2');
    expect(header).toContain('data type = 4');
    expect(header).toContain('cubestream radiometry = counts');
    const meta = JSON.parse(await readFile(join(dir, 'references.json'), 'utf8'));
    expect(meta).toMatchObject({ schema: 'cubestream.references/1', width: 3, bands: 2, darkLines: 100 });
  });

  it('saves references without wavelengths, and overwrites an earlier set', async () => {
    const dir = join(root, 'overwrite');
    await saveReferences(dir, refs);
    const { wavelengths: _w, ...rest } = refs;
    const newer = { ...rest, takenAt: '2026-03-02T08:00:00.000Z', dark: new Float32Array(6) };
    await saveReferences(dir, newer);
    const loaded = await loadReferences(dir);
    expect(loaded.wavelengths).toBeUndefined();
    expect(loaded.takenAt).toBe('2026-03-02T08:00:00.000Z');
    expect([...loaded.dark]).toEqual([0, 0, 0, 0, 0, 0]);
  });

  it('refuses to save a line of the wrong size, naming the file', async () => {
    await expect(
      saveReferences(join(root, 'bad-save'), { ...refs, white: new Float32Array(5) }),
    ).rejects.toThrow(/white\.hdr: white holds 5 values, expected width\*bands = 3\*2 = 6/);
  });

  it('names the missing references.json', async () => {
    const dir = join(root, 'empty');
    const error = await loadReferences(dir).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ReferencesFileError);
    expect((error as ReferencesFileError).file).toBe(join(dir, 'references.json'));
    expect((error as Error).message).toContain('take references with cubestream calibrate');
  });

  it('names a references.json that is not JSON or misses a field', async () => {
    const dir = join(root, 'bad-json');
    await saveReferences(dir, refs);
    await writeFile(join(dir, 'references.json'), '{ nope');
    await expect(loadReferences(dir)).rejects.toThrow(/references\.json: is not valid JSON/);
    const meta = JSON.parse(await readFile(join(root, 'round-trip', 'references.json'), 'utf8'));
    delete meta.settings.camera.serial;
    await writeFile(join(dir, 'references.json'), JSON.stringify(meta));
    const error = await loadReferences(dir).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).issues.map((i) => i.path)).toEqual(['settings.camera.serial']);
  });

  it('names a reference line whose size differs from references.json', async () => {
    const dir = join(root, 'bad-line');
    await saveReferences(dir, refs);
    await writeEnviCube(
      join(dir, 'white.hdr'),
      { lines: 1, samples: 4, bands: 2, data: new Float32Array(8) },
      { dataType: 4, interleave: 'bip' },
    );
    await expect(loadReferences(dir)).rejects.toThrow(
      `reflectance references ${join(dir, 'white.hdr')}: is 1 line(s) x 4 samples x 2 bands, expected 1 x 3 x 2 as references.json says`,
    );
  });

  it('names a missing data file', async () => {
    const dir = join(root, 'no-data');
    await saveReferences(dir, refs);
    await rm(join(dir, 'dark.img'));
    await expect(loadReferences(dir)).rejects.toThrow(ReferencesFileError);
    await expect(loadReferences(dir)).rejects.toThrow(join(dir, 'dark.hdr'));
  });
});

describe('averageLines', () => {
  it('averages lines element by element', () => {
    const lines = [Float32Array.of(1, 2, 3, 4), Float32Array.of(3, 2, 5, 8), Float32Array.of(2, 2, 1, 0)];
    expect([...averageLines(lines, 2, 2)]).toEqual([2, 2, 3, 4]);
  });

  it('accumulates in float64: 3000 lines of 65535 and one of 0 average without float32 drift', () => {
    function* many(): Generator<Float32Array> {
      for (let i = 0; i < 3000; i++) yield Float32Array.of(65535, 0.1);
      yield Float32Array.of(0, 0.1);
    }
    const mean = averageLines(many(), 1, 2);
    expect(mean[0]).toBe(Math.fround((65535 * 3000) / 3001));
    expect(mean[1]).toBe(Math.fround(0.1));
  });

  it('refuses no line and a line of another length', () => {
    expect(() => averageLines([], 2, 2)).toThrow('no line to average');
    expect(() => averageLines([new Float32Array(4), new Float32Array(3)], 2, 2)).toThrow(
      'reflectance references line 1: holds 3 values, expected width*bands = 2*2 = 4',
    );
  });
});

describe('referenceWarnings', () => {
  const takenAt = Date.parse(refs.takenAt);
  const sameFeatures = { ...refs.settings.features };

  it('says nothing for fresh references taken with the same settings', () => {
    expect(referenceWarnings(refs, sameFeatures, { now: takenAt + DAY, maxAgeMs: 7 * DAY })).toEqual([]);
  });

  it('warns about references older than maxAgeMs', () => {
    expect(referenceWarnings(refs, sameFeatures, { now: takenAt + 9.5 * DAY, maxAgeMs: 7 * DAY })).toEqual([
      'reflectance references taken 2026-03-01T08:00:00.000Z are 9.5 days old, more than the 7 days allowed: take new ones with cubestream calibrate',
    ]);
  });

  it('warns about references dated in the future', () => {
    expect(referenceWarnings(refs, sameFeatures, { now: takenAt - 2 * 3_600_000, maxAgeMs: DAY })).toEqual([
      'reflectance references taken 2026-03-01T08:00:00.000Z are dated 2 hours in the future: check the clock',
    ]);
  });

  it('names each feature read now with another value', () => {
    const now = { ...sameFeatures, Width: 1024, PixelFormat: 'Mono12', ExposureTime: 2000.5, Gain: 3 };
    expect(referenceWarnings(refs, now, { now: takenAt, maxAgeMs: DAY })).toEqual([
      'reflectance references taken with other settings: PixelFormat: references Mono16, camera Mono12',
      'reflectance references taken with other settings: Width: references 512, camera 1024',
    ]);
  });

  it('warns about another camera when told which camera is open', () => {
    const camera = { id: 'Specim-FX10-7', vendor: 'Specim', model: 'FX10', serial: '7' };
    expect(referenceWarnings(refs, sameFeatures, { now: takenAt, maxAgeMs: DAY, camera })).toEqual([
      'reflectance references taken with another camera: references Aravis Fake serial GV01 (Aravis-Fake-GV01), camera Specim FX10 serial 7 (Specim-FX10-7)',
    ]);
    expect(
      referenceWarnings(refs, sameFeatures, { now: takenAt, maxAgeMs: DAY, camera: refs.settings.camera }),
    ).toEqual([]);
  });

  it('refuses a maxAgeMs that is not positive', () => {
    expect(() => referenceWarnings(refs, sameFeatures, { maxAgeMs: 0 })).toThrow(OptionError);
    expect(referenceWarnings(refs, sameFeatures, { now: takenAt + 1000 * DAY, maxAgeMs: Infinity })).toEqual(
      [],
    );
  });
});
