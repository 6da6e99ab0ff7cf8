/**
 * `cubestream capture` against Aravis's fake GigE Vision camera: the cube holds the camera's
 * test pattern line by line (uint16 counts), `inspect` reads its header, `train` trains on it,
 * `--calibration` records reflectance equal to the formula applied by hand to the counts of
 * the same lines, and lost lines are counted. Under CI=true a missing fake camera fails these
 * tests instead of skipping them.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeMonoFormat, fakeCameraCount } from '../../../scripts/genicam-fake-pattern.js';
import { readCaptureMetadata } from '../../../src/app/cli/capture-header.js';
import { runCli } from '../../../src/app/cli/main.js';
import { type EnviCube, readEnviCube } from '../../../src/io/envi/index.js';
import { loadBundle } from '../../../src/model/bundle.js';
import { saveReferences } from '../../../src/model/radiometric-references.js';
import { captureIO } from '../../helpers/capture-io.js';
import {
  FAKE_CAMERA_HOOK_TIMEOUT_MS,
  type FakeCamera,
  fakeCameraInstalled,
  startFakeCamera,
} from '../../helpers/fake-gv-camera.js';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const WIDTH = 64;
const BANDS = 16;
/** 64 pixels x 16 bands of Mono8 (bands-rows), fast. */
const CAMERA_FLAGS = [
  '--camera',
  '127.0.0.1',
  '--width',
  `${WIDTH}`,
  '--height',
  `${BANDS}`,
  '--pixel-format',
  'Mono8',
  '--frame-rate',
  '300',
];

/** The line's block id modulo the pattern's period, from its pixel 0, band 0 (counts). */
function phaseOf(format: FakeMonoFormat, count: number): number {
  // Mono16: v = 256 f mod 65535, and 256 * 256 = 1 mod 65535. Mono8: v = f mod 255.
  return format === 'Mono16' ? (256 * count) % 65535 : count;
}

/** Line `line` of a BIP cube. */
function lineOf(cube: EnviCube, line: number): Float32Array {
  const size = cube.samples * cube.bands;
  return cube.data.subarray(line * size, (line + 1) * size);
}

/** Lines whose counts are not the fake camera's pattern for their block id. */
function linesOffPattern(format: FakeMonoFormat, cube: EnviCube): number[] {
  const off: number[] = [];
  for (let line = 0; line < cube.lines; line++) {
    const values = lineOf(cube, line);
    const id = phaseOf(format, values[0] as number);
    let same = true;
    for (let x = 0; x < cube.samples && same; x++)
      for (let b = 0; b < cube.bands && same; b++)
        same = values[x * cube.bands + b] === fakeCameraCount(format, x, b, id);
    if (!same) off.push(line);
  }
  return off;
}

async function capture(args: string[]) {
  const io = captureIO();
  const code = await runCli(['capture', ...args], io);
  return { code, out: io.stdout(), err: io.stderr() };
}

describe.skipIf(!fakeCameraInstalled && process.env.CI !== 'true')(
  'cubestream capture (fake GigE Vision camera)',
  () => {
    let camera: FakeCamera;
    let dir: string;
    let counts: EnviCube;
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'cubestream-capture-'));
      camera = await startFakeCamera({ serial: 'CLICAP' });
      // 300 lines: every phase of the 255-line pattern, for the reflectance test below.
      const result = await capture([
        ...CAMERA_FLAGS,
        '--lines',
        '300',
        '--out',
        join(dir, 'counts'),
        '--name',
        'belt-1',
      ]);
      expect(result.code, result.err).toBe(0);
      counts = await readEnviCube(join(dir, 'counts', 'belt-1.hdr'));
    }, FAKE_CAMERA_HOOK_TIMEOUT_MS);
    afterAll(async () => {
      await camera?.dispose();
      await rm(dir, { recursive: true, force: true });
    });

    it('records the lines as uint16 counts: the camera pattern, line after line', () => {
      expect(counts.header).toMatchObject({
        lines: 300,
        samples: WIDTH,
        bands: BANDS,
        dataType: 12,
        interleave: 'bil',
        radiometry: 'counts',
      });
      expect(counts.wavelengthUnits).toBe('index');
      expect(linesOffPattern('Mono8', counts)).toEqual([]);
      // Consecutive lines are consecutive block ids (nothing is lost on the loopback).
      const phases = Array.from({ length: counts.lines }, (_, i) => lineOf(counts, i)[0] as number);
      expect(phases.slice(1).every((p, i) => p === ((phases[i] as number) + 1) % 255)).toBe(true);
    });

    it('writes camera, settings, lost lines and one increasing timestamp a line into the header; inspect shows them', async () => {
      const hdr = join(dir, 'counts', 'belt-1.hdr');
      const meta = await readCaptureMetadata(hdr, counts.header);
      expect(meta?.camera).toEqual({
        id: 'Aravis-Fake-CLICAP',
        vendor: 'Aravis',
        model: 'Fake',
        serial: 'CLICAP',
      });
      expect(meta?.features).toMatchObject({ Width: WIDTH, Height: BANDS, PixelFormat: 'Mono8' });
      // Read back as the camera rounded it (the fake camera: 300.03).
      expect(meta?.features.AcquisitionFrameRate).toBeCloseTo(300, 0);
      expect(meta?.linesLost).toBe(0);
      const t = meta?.timestamps as Float64Array;
      expect(t.length).toBe(300);
      for (let i = 1; i < t.length; i++) expect(t[i]).toBeGreaterThan(t[i - 1] as number);

      const io = captureIO();
      expect(await runCli(['inspect', hdr, '--json'], io), io.stderr()).toBe(0);
      const report = JSON.parse(io.stdout());
      expect(report).toMatchObject({
        lines: 300,
        samples: WIDTH,
        bands: BANDS,
        sizeOk: true,
        radiometry: 'counts',
      });
      expect(report.capture).toMatchObject({
        camera: meta?.camera,
        features: { Width: WIDTH, Height: BANDS, PixelFormat: 'Mono8' },
        linesLost: 0,
        timestamps: { count: 300, storage: 'header', first: new Date(t[0] as number).toISOString() },
      });
    });

    it('with --calibration records float32 reflectance equal to (DN - dark) / (white - dark) of the same lines', async () => {
      // References by hand: dark 2, white 252 (gain 1/250), and one dead pixel-band (white = dark).
      const size = WIDTH * BANDS;
      const dark = new Float32Array(size).fill(2);
      const white = new Float32Array(size).fill(252);
      const DEAD = 5 * BANDS + 3;
      white[DEAD] = 2;
      const refs = join(dir, 'refs');
      await saveReferences(refs, {
        width: WIDTH,
        bands: BANDS,
        dark,
        white,
        takenAt: new Date().toISOString(),
        darkLines: 1,
        whiteLines: 1,
        settings: {
          camera: { id: 'Aravis-Fake-CLICAP', vendor: 'Aravis', model: 'Fake', serial: 'CLICAP' },
          features: { Width: WIDTH, Height: BANDS, PixelFormat: 'Mono8', AcquisitionFrameRate: 300 },
        },
      });
      const result = await capture([
        ...CAMERA_FLAGS,
        '--lines',
        '40',
        '--out',
        join(dir, 'reflectance'),
        '--name',
        'r',
        '--calibration',
        refs,
      ]);
      expect(result.code, result.err).toBe(0);
      expect(result.out).toContain('40 lines x 64 samples x 16 bands, float32 reflectance, bil');
      const cube = await readEnviCube(join(dir, 'reflectance', 'r.hdr'));
      expect(cube.header).toMatchObject({ dataType: 4, radiometry: 'reflectance' });
      expect((await readCaptureMetadata(join(dir, 'reflectance', 'r.hdr'), cube.header))?.calibration).toBe(
        refs,
      );

      // The counts capture holds a line of every phase: the same lines, uncalibrated.
      const byPhase = new Map<number, Float32Array>();
      for (let i = 0; i < counts.lines; i++) byPhase.set(lineOf(counts, i)[0] as number, lineOf(counts, i));
      for (let line = 0; line < cube.lines; line++) {
        const r = lineOf(cube, line);
        const phase = Math.round((r[0] as number) * 250 + 2); // pixel 0, band 0 back to counts
        const dn = byPhase.get(phase);
        expect(dn, `phase ${phase}`).toBeDefined();
        for (let j = 0; j < size; j++) {
          const expected = j === DEAD ? 0 : ((dn?.[j] as number) - 2) / (252 - 2);
          if (Math.abs((r[j] as number) - expected) > 1e-6) {
            expect.fail(`line ${line}, value ${j}: ${r[j]}, by hand ${expected}`);
          }
        }
      }
    }, 60_000);

    it('takes a run config for the camera settings, flags winning (Mono16 from the config)', async () => {
      const config = join(repoRoot, 'configs/run/genicam-fake.yaml');
      const result = await capture([
        '--config',
        config,
        '--width',
        `${WIDTH}`,
        '--height',
        `${BANDS}`,
        '--lines',
        '20',
        '--out',
        join(dir, 'mono16'),
        '--name',
        'm',
      ]);
      expect(result.code, result.err).toBe(0);
      const cube = await readEnviCube(join(dir, 'mono16', 'm.hdr'));
      expect(cube.header).toMatchObject({ lines: 20, samples: WIDTH, bands: BANDS, dataType: 12 });
      expect(linesOffPattern('Mono16', cube)).toEqual([]);
    }, 60_000);

    it('gives a cube that cubestream train trains on as it is (no mask: every pixel normal), with radiometry in the bundle', async () => {
      const data = join(dir, 'counts');
      const runs = join(dir, 'runs');
      await mkdir(runs, { recursive: true });
      const io = captureIO();
      const code = await runCli(
        [
          'train',
          '--config',
          join(repoRoot, 'configs/trainrun/capture.yaml'),
          '--data',
          data,
          '--out',
          runs,
          '--set',
          'trainer.epochs=1',
          '--set',
          'trainer.stepsPerEpoch=2',
          '--set',
          'trainer.batchSize=512',
        ],
        io,
      );
      expect(code, io.stderr()).toBe(0);
      expect(io.stderr()).toContain(
        '1 training cube(s) without a mask: every pixel is trained on as normal product',
      );
      const [run] = await readdir(runs);
      const bundle = await loadBundle(join(runs, run as string, 'model'));
      expect(bundle.manifest.input).toMatchObject({
        bands: BANDS,
        wavelengthUnits: 'index',
        radiometry: 'counts',
      });
      expect(bundle.calibration.pixels).toBe(300 * WIDTH);
    }, 120_000);

    it(
      'counts lines lost on the way and still records the lines asked for',
      async () => {
        await camera.dispose();
        // 30 % of the packets lost: most frames of this size are one data packet, leader and trailer.
        camera = await startFakeCamera({ serial: 'CLICAP', lossPerThousand: 300 });
        const result = await capture([
          ...CAMERA_FLAGS,
          '--lines',
          '60',
          '--out',
          join(dir, 'lossy'),
          '--name',
          'l',
        ]);
        expect(result.code, result.err).toBe(0);
        const cube = await readEnviCube(join(dir, 'lossy', 'l.hdr'));
        expect(cube.lines).toBe(60);
        expect(linesOffPattern('Mono8', cube)).toEqual([]);
        const meta = await readCaptureMetadata(join(dir, 'lossy', 'l.hdr'), cube.header);
        expect(meta?.linesLost).toBeGreaterThan(0);
        expect(result.out).toContain(`lost:       ${meta?.linesLost} lines`);
        expect(result.err).toContain(
          `warning: ${meta?.linesLost} lines were lost while capturing; the cube holds the 60 that arrived`,
        );
      },
      FAKE_CAMERA_HOOK_TIMEOUT_MS,
    );

    it('runs as a process of its own and exits when done (Aravis first used by the acquisition worker)', async () => {
      const out = join(dir, 'process');
      const { code, stdout, stderr } = await new Promise<{
        code: number | null;
        stdout: string;
        stderr: string;
      }>((resolve) => {
        const child = execFile(
          process.execPath,
          [
            '--import',
            'tsx',
            join(repoRoot, 'src/app/cli.ts'),
            'capture',
            ...CAMERA_FLAGS,
            '--lines',
            '10',
            '--out',
            out,
            '--name',
            'p',
          ],
          { cwd: repoRoot, timeout: 60_000 },
          (_error, stdout, stderr) => resolve({ code: child.exitCode, stdout, stderr }),
        );
      });
      expect(code, stderr).toBe(0);
      expect(stdout).toContain('(10 lines x 64 samples x 16 bands, uint16 counts, bil)');
      expect(linesOffPattern('Mono8', await readEnviCube(join(out, 'p.hdr')))).toEqual([]);
    }, 90_000);

    it('refuses to overwrite a cube and names it', async () => {
      const result = await capture([
        ...CAMERA_FLAGS,
        '--lines',
        '1',
        '--out',
        join(dir, 'counts'),
        '--name',
        'belt-1',
      ]);
      expect(result.code).toBe(2);
      expect(result.err).toBe(
        `cubestream capture: ${join(dir, 'counts', 'belt-1.hdr')} exists: choose another --name or --out\n`,
      );
    });
  },
);
