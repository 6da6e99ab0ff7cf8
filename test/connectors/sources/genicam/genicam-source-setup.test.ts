import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  calibrationWarnings,
  loadCalibration,
  resolveWavelengths,
  WavelengthsSettingError,
} from '../../../../connectors/sources/genicam/genicam-source-setup.js';
import { saveReferences } from '../../../../src/model/radiometric-references.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cubestream-genicam-setup-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const header = (extra: string) =>
  `ENVI\nsamples = 4\nlines = 1\nbands = 3\nheader offset = 0\ndata type = 4\ninterleave = bip\nbyte order = 0\n${extra}`;

describe('resolveWavelengths', () => {
  it('none: band indices (undefined); a list: nm', async () => {
    expect(await resolveWavelengths(undefined)).toBeUndefined();
    const listed = await resolveWavelengths([400.5, 402.75]);
    expect(listed?.units).toBe('nm');
    expect([...(listed?.values ?? [])]).toEqual([400.5, 402.75]);
  });

  it("an ENVI header's wavelength field, µm converted to nm", async () => {
    const path = join(dir, 'fx10.hdr');
    await writeFile(path, header('wavelength units = Micrometers\nwavelength = {0.4, 0.5, 0.6}\n'));
    const read = await resolveWavelengths({ enviHeader: path });
    expect(read?.units).toBe('nm');
    [400, 500, 600].forEach((nm, i) => {
      expect(read?.values[i]).toBeCloseTo(nm, 3);
    });
  });

  it('a header without wavelengths: an error naming the file', async () => {
    const path = join(dir, 'bare.hdr');
    await writeFile(path, header(''));
    await expect(resolveWavelengths({ enviHeader: path })).rejects.toThrow(WavelengthsSettingError);
    await expect(resolveWavelengths({ enviHeader: path })).rejects.toThrow(
      `source.wavelengths.enviHeader ${path} has no wavelength field in nm or µm`,
    );
  });
});

describe('loadCalibration and calibrationWarnings', () => {
  it('gains from the stored references; warnings for age, other settings, another camera and dead pixel-bands', async () => {
    const camera = { id: 'Aravis-Fake-GV01', vendor: 'Aravis', model: 'Fake', serial: 'GV01' };
    await saveReferences(dir, {
      width: 2,
      bands: 2,
      // pixel 1 band 1: white = dark, a dead pixel-band
      dark: Float32Array.of(10, 10, 10, 50),
      white: Float32Array.of(110, 210, 60, 50),
      takenAt: '2026-01-01T00:00:00.000Z',
      darkLines: 8,
      whiteLines: 8,
      settings: { camera, features: { Width: 512, PixelFormat: 'Mono16' } },
    });
    const calibration = await loadCalibration(dir);
    expect([...calibration.gains.gain]).toEqual([...Float32Array.of(0.01, 0.005, 0.02, 0)]);
    const now = Date.parse('2026-01-03T00:00:00.000Z'); // 2 days later
    const fresh = calibrationWarnings(
      calibration,
      { camera, features: { Width: 512, PixelFormat: 'Mono16' } },
      72,
      now,
    );
    expect(fresh).toEqual([
      'reflectance references: 1 of 4 pixel-bands have white <= dark (no signal, saturated dark, or a dead pixel): their reflectance is 0',
    ]);
    const warnings = calibrationWarnings(
      calibration,
      { camera: { ...camera, serial: 'GV02' }, features: { Width: 1024, PixelFormat: 'Mono16' } },
      24,
      now,
    );
    expect(warnings).toHaveLength(4);
    expect(warnings[0]).toMatch(/^reflectance references taken 2026-01-01T00:00:00.000Z are 2 days old/);
    expect(warnings[1]).toMatch(/^reflectance references taken with another camera/);
    expect(warnings[2]).toBe(
      'reflectance references taken with other settings: Width: references 512, camera 1024',
    );
  });

  it('a folder without references: an error naming the file', async () => {
    await expect(loadCalibration(join(dir, 'none'))).rejects.toThrow('references.json');
  });
});
