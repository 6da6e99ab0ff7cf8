import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listCameras } from '../../../../connectors/sources/genicam/discover-cameras.js';
import {
  FAKE_CAMERA_HOOK_TIMEOUT_MS,
  type FakeCamera,
  fakeCameraInstalled,
  startFakeCamera,
} from '../../../helpers/fake-gv-camera.js';

describe.skipIf(!fakeCameraInstalled && process.env.CI !== 'true')(
  'listCameras against the fake GigE Vision camera',
  () => {
    let camera: FakeCamera;
    beforeAll(async () => {
      camera = await startFakeCamera({ serial: 'CUBE42' });
    }, FAKE_CAMERA_HOOK_TIMEOUT_MS);
    afterAll(() => camera?.dispose());

    it('finds it with its id, vendor, model, serial, address and protocol', async () => {
      const cameras = await listCameras();
      expect(cameras).toContainEqual({
        id: 'Aravis-Fake-CUBE42',
        vendor: 'Aravis',
        model: 'Fake',
        serial: 'CUBE42',
        address: '127.0.0.1',
        protocol: 'GigEVision',
      });
    });

    it('no longer lists it once it is gone', async () => {
      await camera.kill();
      const cameras = await listCameras();
      expect(cameras.some((c) => c.serial === 'CUBE42')).toBe(false);
      await camera.restart();
      expect((await listCameras()).some((c) => c.serial === 'CUBE42')).toBe(true);
    });
  },
);
