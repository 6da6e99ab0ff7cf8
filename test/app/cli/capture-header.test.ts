import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CAPTURE_HEADER_KEYS,
  type CaptureMetadata,
  captureHeaderFields,
  HEADER_TIMESTAMPS_MAX_LINES,
  readCaptureMetadata,
  timestampsSidecarPath,
  writeTimestampsSidecar,
} from '../../../src/app/cli/capture-header.js';
import { runCli } from '../../../src/app/cli/main.js';
import { readEnviHeader } from '../../../src/io/envi/index.js';
import { createEnviWriter } from '../../../src/io/envi/writer.js';
import { captureIO } from '../../helpers/capture-io.js';

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cubestream-capture-header-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const camera = { id: 'Aravis-Fake-GV01', vendor: 'Aravis', model: 'Fake', serial: '007' };

/** Writes a 2-sample, 3-band cube of `lines` lines the way `cubestream capture` does. */
async function writeCapture(name: string, meta: CaptureMetadata): Promise<string> {
  const hdr = join(dir, `${name}.hdr`);
  const lines = meta.timestamps.length;
  const writer = await createEnviWriter(hdr, {
    samples: 2,
    lines,
    bands: 3,
    dataType: 12,
    interleave: 'bil',
    radiometry: 'counts',
  });
  await writer.writeRows(new Float32Array(lines * 6).fill(9));
  if (lines > HEADER_TIMESTAMPS_MAX_LINES) await writeTimestampsSidecar(hdr, meta.timestamps);
  await writer.close(captureHeaderFields(meta, hdr));
  return hdr;
}

describe('capture header fields', () => {
  it('round-trips camera, settings (with separators), lost lines, calibration and timestamps', async () => {
    const meta: CaptureMetadata = {
      camera,
      features: {
        Width: 2,
        Height: 3,
        PixelFormat: 'Mono16',
        ExposureTimeAbs: 812.5,
        Odd: 'a,b{c}=d%',
        Flag: true,
      },
      linesLost: 4,
      timestamps: Float64Array.of(1_700_000_000_000.125, 1_700_000_000_010.25, 1_700_000_000_020.5),
      calibration: '/refs/line1',
    };
    const hdr = await writeCapture('small', meta);
    const text = await readFile(hdr, 'utf8');
    expect(text).toContain(
      'cubestream camera features = {Width=2, Height=3, PixelFormat=Mono16, ExposureTimeAbs=812.5, Odd=a%2Cb%7Bc%7D%3Dd%25, Flag=true}',
    );
    expect(text).toContain(
      'cubestream line timestamps = {1700000000000.125, 1700000000010.25, 1700000000020.5}',
    );
    expect(text).toContain('acquisition time = 2023-11-14T22:13:20.000Z');
    const back = await readCaptureMetadata(hdr, await readEnviHeader(hdr));
    expect(back).toEqual(meta);
    expect(back?.camera.serial).toBe('007');
  });

  it('moves the timestamps of a long capture to <name>.timestamps.json', async () => {
    const lines = HEADER_TIMESTAMPS_MAX_LINES + 1;
    const timestamps = Float64Array.from({ length: lines }, (_, i) => 1_700_000_000_000 + i * 3.5);
    const hdr = await writeCapture('long', { camera, features: { Width: 2 }, linesLost: 0, timestamps });
    const header = await readEnviHeader(hdr);
    expect(header.fields[CAPTURE_HEADER_KEYS.timestampsFile]).toBe('long.timestamps.json');
    expect(header.fields[CAPTURE_HEADER_KEYS.timestamps]).toBeUndefined();
    const sidecar = JSON.parse(await readFile(timestampsSidecarPath(hdr), 'utf8'));
    expect(sidecar).toMatchObject({ unit: 'epoch ms', lines });
    const back = await readCaptureMetadata(hdr, header);
    expect(back?.timestamps).toEqual(timestamps);
  });

  it('returns undefined for a cube that is not a capture, and names the key of a bad value', async () => {
    const hdr = join(dir, 'plain.hdr');
    const writer = await createEnviWriter(hdr, {
      samples: 1,
      lines: 2,
      bands: 1,
      dataType: 4,
      interleave: 'bsq',
    });
    await writer.writeRows(new Float32Array(2));
    await writer.close();
    expect(await readCaptureMetadata(hdr, await readEnviHeader(hdr))).toBeUndefined();

    const bad = await writeCapture('bad', {
      camera,
      features: {},
      linesLost: 0,
      timestamps: Float64Array.of(1, 2),
    });
    const text = await readFile(bad, 'utf8');
    await writeFile(
      bad,
      text.replace('cubestream line timestamps = {1, 2}', 'cubestream line timestamps = {1}'),
    );
    await expect(readCaptureMetadata(bad, await readEnviHeader(bad))).rejects.toThrow(
      /"cubestream line timestamps" holds 1 values, the cube has 2 lines/,
    );
  });
});

describe('cubestream inspect on a capture', () => {
  it('shows radiometry, camera, settings, lost lines and the timestamps', async () => {
    const hdr = await writeCapture('shown', {
      camera,
      features: { Width: 2, Height: 3, PixelFormat: 'Mono8' },
      linesLost: 1,
      timestamps: Float64Array.of(1_700_000_000_000, 1_700_000_000_004, 1_700_000_000_012),
    });
    const json = captureIO();
    expect(await runCli(['inspect', hdr, '--json'], json)).toBe(0);
    const report = JSON.parse(json.stdout());
    expect(report.radiometry).toBe('counts');
    expect(report.capture).toEqual({
      camera,
      features: { Width: 2, Height: 3, PixelFormat: 'Mono8' },
      linesLost: 1,
      timestamps: {
        count: 3,
        storage: 'header',
        first: '2023-11-14T22:13:20.000Z',
        last: '2023-11-14T22:13:20.012Z',
        meanPeriodMs: 6,
        maxPeriodMs: 8,
      },
    });
    const text = captureIO();
    expect(await runCli(['inspect', hdr], text)).toBe(0);
    expect(text.stdout()).toContain('radiometry               counts');
    expect(text.stdout()).toContain('camera                   Aravis-Fake-GV01 (Aravis Fake, serial 007)');
    expect(text.stdout()).toContain('camera settings          Width=2 Height=3 PixelFormat=Mono8');
    expect(text.stdout()).toContain('lines lost               1');
    expect(text.stdout()).toContain(
      'line timestamps          3 in the header, 2023-11-14T22:13:20.000Z .. 2023-11-14T22:13:20.012Z, period 6.000 ms (longest 8.000 ms)',
    );
  });
});
