import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createLineScanSimulator,
  SIM_ANOMALY_CLASS_IDS,
} from '../../../connectors/sources/simulated-line-scan.js';
import { runCli } from '../../../src/app/cli/main.js';
import { readEnviCube, readEnviMask } from '../../../src/io/envi/index.js';
import { captureIO } from '../../helpers/capture-io.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cubestream-simulate-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface Manifest {
  generator: { options: Record<string, unknown> };
  classes: { id: number; name: string }[];
  normalClassIds: number[];
  anomalyClassIds: number[];
  frames: { name: string; anomalyPixels: number; pixels: number }[];
}

describe('cubestream simulate', () => {
  it('writes cubes, masks and a manifest that match the simulator', async () => {
    const out = join(dir, 'sim');
    const io = captureIO();
    const code = await runCli(
      [
        'simulate',
        '--out',
        out,
        '--frames',
        '2',
        '--width',
        '40',
        '--lines',
        '100',
        '--seed',
        '7',
        '--anomaly-rate',
        '0.2',
        '--interleave',
        'bsq',
      ],
      io,
    );
    expect(io.stderr()).toBe('');
    expect(code).toBe(0);
    expect(io.stdout()).toMatch(/^wrote 2 frames of 100x40x61 to .*\n$/);
    expect((await readdir(out)).sort()).toEqual([
      'frame-0000.hdr',
      'frame-0000.img',
      'frame-0000_mask.hdr',
      'frame-0000_mask.img',
      'frame-0001.hdr',
      'frame-0001.img',
      'frame-0001_mask.hdr',
      'frame-0001_mask.img',
      'manifest.json',
    ]);

    // The same simulator, same seed, frames of 100 rows cut in blocks of 64: what must be on disk.
    const sim = createLineScanSimulator({
      width: 40,
      totalRows: 100,
      blockRows: 64,
      seed: 7,
      anomalyRate: 0.2,
    });
    const manifest = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8')) as Manifest;
    expect(manifest.normalClassIds).toEqual([1, 2, 4]);
    expect(manifest.anomalyClassIds).toEqual([3, 5, 6, 7]);
    expect(manifest.classes.map((c) => c.name)).toContain('stone');
    expect(manifest.generator.options).toMatchObject({ seed: 7, width: 40, lines: 100, anomalyRate: 0.2 });
    expect(manifest.frames.map((f) => f.name)).toEqual(['frame-0000', 'frame-0001']);

    for (const [i, name] of ['frame-0000', 'frame-0001'].entries()) {
      const expectedData = new Float32Array(100 * 40 * 61);
      const expectedLabels = new Uint8Array(100 * 40);
      for (let row = 0; row < 100; ) {
        const block = sim.nextFrame()!;
        expect(block.frameId).toBe(i);
        expectedData.set(block.data, row * 40 * 61);
        expectedLabels.set(block.labels!, row * 40);
        row += block.height;
      }
      const cube = await readEnviCube(join(out, `${name}.hdr`));
      expect([cube.lines, cube.samples, cube.bands, cube.header.interleave, cube.header.dataType]).toEqual([
        100,
        40,
        61,
        'bsq',
        12,
      ]);
      expect(cube.wavelengths[0]).toBeCloseTo(430, 3);
      expect(cube.wavelengths[60]).toBeCloseTo(910, 3);
      expect(Buffer.from(cube.data.buffer).equals(Buffer.from(expectedData.buffer))).toBe(true);
      const mask = await readEnviMask(join(out, `${name}_mask.hdr`));
      expect(Buffer.from(mask).equals(Buffer.from(expectedLabels))).toBe(true);
      const anomalous = mask.filter((id) => SIM_ANOMALY_CLASS_IDS.includes(id)).length;
      expect(anomalous).toBeGreaterThan(0);
      expect(manifest.frames[i]).toMatchObject({ name, anomalyPixels: anomalous, pixels: 4000 });
    }
  });

  it('writes float32 reflectance with the fx17 preset', async () => {
    const out = join(dir, 'swir');
    const io = captureIO();
    const args = [
      'simulate',
      '--out',
      out,
      '--frames',
      '1',
      '--width',
      '8',
      '--lines',
      '4',
      '--preset',
      'fx17',
    ];
    expect(
      await runCli([...args, '--data-type', 'f32', '--output', 'reflectance', '--interleave', 'bip'], io),
    ).toBe(0);
    const cube = await readEnviCube(join(out, 'frame-0000.hdr'));
    expect([cube.bands, cube.header.dataType, cube.header.interleave]).toEqual([224, 4, 'bip']);
    expect(cube.wavelengths[0]).toBeCloseTo(900, 3);
    const max = cube.data.reduce((m, v) => Math.max(m, v), 0);
    expect(max).toBeGreaterThan(0);
    expect(max).toBeLessThan(2);
  });

  it.each([
    [['--frames', '1'], /missing required option --out/],
    [['--out', 'x'], /missing required option --frames/],
    [['--out', 'x', '--frames', '0'], /--frames must be an integer >= 1/],
    [
      ['--out', 'x', '--frames', '1', '--preset', 'fx99'],
      /--preset must be one of default, fx10, fx17, got "fx99"/,
    ],
    [['--out', 'x', '--frames', '1', '--anomaly-rate', '2'], /--anomaly-rate must be a number >= 0 and <= 1/],
    [['--out', 'x', '--frames', '1', '--data-type', 'f64'], /--data-type must be one of u16, f32/],
    [['--out', 'x', '--frames', '1', '--interleave', 'abc'], /--interleave must be one of/],
    [['--out', 'x', '--frames', '1', '--output', 'reflectance'], /needs --data-type f32/],
    [['--out', 'x', '--frames', '1', '--bogus'], /bogus/],
  ])('exits 2 with one line for %j', async (args, message) => {
    const io = captureIO();
    expect(await runCli(['simulate', ...args], io)).toBe(2);
    expect(io.stderr()).toMatch(message);
    expect(io.stderr().trimEnd().split('\n')).toHaveLength(1);
    expect(io.stdout()).toBe('');
  });
});
