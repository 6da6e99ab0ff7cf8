/**
 * `cubestream cameras` against Aravis's fake GigE Vision camera (real GVCP discovery on
 * 127.0.0.1). Under CI=true a missing fake camera fails these tests instead of skipping them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadAravis } from '../../../connectors/sources/genicam/aravis-library.js';
import { createCamerasCommand } from '../../../src/app/cli/commands/cameras.js';
import { runCli } from '../../../src/app/cli/main.js';
import { captureIO } from '../../helpers/capture-io.js';
import {
  FAKE_CAMERA_HOOK_TIMEOUT_MS,
  type FakeCamera,
  fakeCameraInstalled,
  startFakeCamera,
} from '../../helpers/fake-gv-camera.js';

describe.skipIf(!fakeCameraInstalled && process.env.CI !== 'true')(
  'cubestream cameras (fake GigE Vision camera)',
  () => {
    let camera: FakeCamera;
    beforeAll(async () => {
      camera = await startFakeCamera({ serial: 'CLICAMS' });
    }, FAKE_CAMERA_HOOK_TIMEOUT_MS);
    afterAll(async () => {
      await camera?.dispose();
    });

    it('lists the camera as JSON with id, vendor, model, serial and address', async () => {
      const io = captureIO();
      expect(await runCli(['cameras', '--json'], io), io.stderr()).toBe(0);
      const cameras = JSON.parse(io.stdout()) as Record<string, unknown>[];
      expect(cameras).toContainEqual({
        id: 'Aravis-Fake-CLICAMS',
        vendor: 'Aravis',
        model: 'Fake',
        serial: 'CLICAMS',
        address: '127.0.0.1',
        protocol: 'GigEVision',
      });
    });

    it('prints a table, and with --open the line format of that camera', async () => {
      const io = captureIO();
      expect(await runCli(['cameras', '--open', 'CLICAMS'], io), io.stderr()).toBe(0);
      const lines = io.stdout().split('\n');
      expect(lines[0]).toMatch(/^ID\s+VENDOR\s+MODEL\s+SERIAL\s+ADDRESS\s+PROTOCOL$/);
      expect(lines).toContainEqual(
        expect.stringMatching(/^Aravis-Fake-CLICAMS\s+Aravis\s+Fake\s+CLICAMS\s+127\.0\.0\.1\s+GigEVision$/),
      );
      // The fake camera starts at 512 x 512 Mono8: one byte a pixel.
      expect(io.stdout()).toContain(
        'Aravis-Fake-CLICAMS: Width 512, Height 512, PixelFormat Mono8, payload 262144 bytes',
      );

      const json = captureIO();
      expect(await runCli(['cameras', '--json', '--camera', '127.0.0.1'], json), json.stderr()).toBe(0);
      const listed = (JSON.parse(json.stdout()) as { serial: string; format?: unknown }[]).find(
        (c) => c.serial === 'CLICAMS',
      );
      expect(listed?.format).toEqual({ width: 512, height: 512, pixelFormat: 'Mono8', payloadBytes: 262144 });
    });

    it('exits 1 naming the camera when --open names one that is not there', async () => {
      const io = captureIO();
      // 127.0.0.2 is on the loopback but nothing answers GigE Vision control there.
      expect(await runCli(['cameras', '--open', '127.0.0.2'], io)).toBe(1);
      expect(io.stderr()).toMatch(/^cubestream cameras: camera 127\.0\.0\.2 cannot be opened: .+\n$/);
    }, 30_000);
  },
);

describe('cubestream cameras without Aravis', () => {
  it('exits 2 with the one line that names the packages to install', async () => {
    // The real loader, asked for a library that is not there (as on a machine without Aravis).
    const command = createCamerasCommand({
      list: async () => {
        await loadAravis({ library: 'libaravis-missing-0.8.so.0' });
        return [];
      },
    });
    const io = captureIO();
    expect(await command.run({ values: { json: true }, positionals: [] }, io)).toBe(2);
    expect(io.stdout()).toBe('');
    expect(io.stderr()).toMatch(
      /^cubestream cameras: GenICam cameras need (Aravis: apt-get install libaravis-0\.8-0 aravis-tools|the koffi FFI: npm install koffi) \([^\n]+\)\n$/,
    );
  });
});
