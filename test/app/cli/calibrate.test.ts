/**
 * `cubestream calibrate` against Aravis's fake GigE Vision camera: the prompts come in order and
 * each waits for Enter, the references are the mean of the lines of the camera's test pattern,
 * and `loadReferences` reads them. Under CI=true a missing fake camera fails these tests.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CALIBRATE_PROMPTS } from '../../../src/app/cli/commands/calibrate.js';
import { runCli } from '../../../src/app/cli/main.js';
import { loadReferences } from '../../../src/model/radiometric-references.js';
import { captureIO } from '../../helpers/capture-io.js';
import {
  FAKE_CAMERA_HOOK_TIMEOUT_MS,
  type FakeCamera,
  fakeCameraInstalled,
  startFakeCamera,
} from '../../helpers/fake-gv-camera.js';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
/** 64 pixels x 16 bands of Mono8, fast. */
const CAMERA_FLAGS = [
  '--camera',
  '127.0.0.1',
  '--width',
  '64',
  '--height',
  '16',
  '--pixel-format',
  'Mono8',
  '--frame-rate',
  '200',
];

describe.skipIf(!fakeCameraInstalled && process.env.CI !== 'true')(
  'cubestream calibrate (fake GigE Vision camera)',
  () => {
    let camera: FakeCamera;
    let dir: string;
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'cubestream-calibrate-'));
      camera = await startFakeCamera({ serial: 'CLICAL' });
    }, FAKE_CAMERA_HOOK_TIMEOUT_MS);
    afterAll(async () => {
      await camera?.dispose();
      await rm(dir, { recursive: true, force: true });
    });

    it('--yes writes references that loadReferences reads, with the camera and its settings', async () => {
      const out = join(dir, 'refs');
      const io = captureIO();
      const before = Date.now();
      const code = await runCli(
        ['calibrate', ...CAMERA_FLAGS, '--dark', '20', '--white', '30', '--out', out, '--yes'],
        io,
      );
      expect(code, io.stderr()).toBe(0);
      expect(io.stderr()).not.toContain(CALIBRATE_PROMPTS.dark);
      const refs = await loadReferences(out);
      expect(refs).toMatchObject({ width: 64, bands: 16, darkLines: 20, whiteLines: 30 });
      expect(refs.wavelengths).toBeUndefined();
      expect(Date.parse(refs.takenAt)).toBeGreaterThanOrEqual(before - 1000);
      expect(refs.settings.camera).toEqual({
        id: 'Aravis-Fake-CLICAL',
        vendor: 'Aravis',
        model: 'Fake',
        serial: 'CLICAL',
      });
      expect(refs.settings.features).toMatchObject({ Width: 64, Height: 16, PixelFormat: 'Mono8' });
      // Each line is (x + b + id) % 255 for consecutive ids: a mean of counts, within the 8-bit range.
      for (const line of [refs.dark, refs.white]) {
        for (const v of line) {
          expect(v).toBeGreaterThanOrEqual(0);
          expect(v).toBeLessThanOrEqual(254);
        }
      }
      expect(io.stdout()).toContain(`references: ${join(out, 'references.json')}`);
      expect(io.stdout()).toContain('lines:      64 pixels x 16 bands (64 x 16 Mono8)');
      expect(io.stdout()).toMatch(/dark: {7}mean [\d.]+ counts over 20 lines/);
      expect(io.stdout()).toMatch(/dead: {7}\d+ of 1024 pixel-bands/);
    }, 60_000);

    it('prompts on stderr and waits for Enter before the dark and the white lines', async () => {
      const out = join(dir, 'prompted');
      const input = new PassThrough();
      const io = { ...captureIO(), input };
      const running = runCli(['calibrate', ...CAMERA_FLAGS, '--dark', '5', '--white', '5', '--out', out], io);
      const waitFor = async (text: string) => {
        while (!io.stderr().includes(text)) await new Promise((r) => setTimeout(r, 20));
      };
      await waitFor(CALIBRATE_PROMPTS.dark);
      // Nothing is captured before Enter: give the camera time it would need for 5 lines (200/s).
      await new Promise((r) => setTimeout(r, 300));
      expect(io.stderr()).not.toContain('dark: ');
      input.write('\n');
      await waitFor(CALIBRATE_PROMPTS.white);
      expect(io.stderr()).toContain('dark: 5 lines averaged');
      await new Promise((r) => setTimeout(r, 300));
      expect(io.stderr()).not.toContain('white: ');
      input.write('\n');
      expect(await running, io.stderr()).toBe(0);
      expect(io.stderr().indexOf(CALIBRATE_PROMPTS.dark)).toBeLessThan(
        io.stderr().indexOf(CALIBRATE_PROMPTS.white),
      );
      expect((await loadReferences(out)).whiteLines).toBe(5);
    }, 60_000);

    it('--dark-feature sets a feature for the dark lines only (the fake camera at 1 ms exposure: all 0)', async () => {
      const out = join(dir, 'shutter');
      const io = captureIO();
      const args = ['--feature', 'ExposureTimeAbs=10000', '--dark-feature', 'ExposureTimeAbs=1000'];
      const code = await runCli(
        ['calibrate', ...CAMERA_FLAGS, ...args, '--dark', '5', '--white', '5', '--out', out, '--yes'],
        io,
      );
      expect(code, io.stderr()).toBe(0);
      const refs = await loadReferences(out);
      // The pattern scales by 1 + log10(exposure / 10 ms): 0 at 1 ms, 1 at 10 ms (set back for white).
      expect(refs.dark.every((v) => v === 0)).toBe(true);
      expect(refs.white.some((v) => v > 0)).toBe(true);
      expect(refs.settings.features.ExposureTimeAbs).toBe(10000);

      const unpaired = captureIO();
      expect(
        await runCli(
          [
            'calibrate',
            ...CAMERA_FLAGS,
            '--dark-feature',
            'ExposureTimeAbs=1000',
            '--dark',
            '1',
            '--white',
            '1',
            '--out',
            out,
            '--yes',
          ],
          unpaired,
        ),
      ).toBe(2);
      expect(unpaired.stderr()).toBe(
        'cubestream calibrate: --dark-feature ExposureTimeAbs needs the value for the white lines too: --feature ExposureTimeAbs=VALUE (or features.extra in the config)\n',
      );
    }, 60_000);

    it('runs as a process of its own and exits when done (Aravis loaded before the acquisition worker)', async () => {
      const out = join(dir, 'process');
      const { code, stderr } = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
        const child = execFile(
          process.execPath,
          [
            '--import',
            'tsx',
            join(repoRoot, 'src/app/cli.ts'),
            'calibrate',
            ...CAMERA_FLAGS,
            '--dark',
            '3',
            '--white',
            '3',
            '--out',
            out,
            '--yes',
          ],
          { cwd: repoRoot, timeout: 60_000 },
          (_error, _stdout, stderr) => resolve({ code: child.exitCode, stderr }),
        );
      });
      expect(code, stderr).toBe(0);
      expect(stderr).not.toContain('GLib');
      expect((await loadReferences(out)).darkLines).toBe(3);
    }, 90_000);

    it('goes on without waiting when the input ends (a script), and names a missing option', async () => {
      const out = join(dir, 'scripted');
      const input = new PassThrough();
      input.end();
      const io = { ...captureIO(), input };
      expect(
        await runCli(['calibrate', ...CAMERA_FLAGS, '--dark', '3', '--white', '3', '--out', out], io),
        io.stderr(),
      ).toBe(0);
      expect(io.stderr()).toContain(`${CALIBRATE_PROMPTS.dark} (no input: going on)`);
      expect((await loadReferences(out)).darkLines).toBe(3);

      const missing = captureIO();
      expect(await runCli(['calibrate', ...CAMERA_FLAGS, '--dark', '3', '--out', out], missing)).toBe(2);
      expect(missing.stderr()).toBe('cubestream calibrate: missing required option --white\n');
    }, 60_000);
  },
);
