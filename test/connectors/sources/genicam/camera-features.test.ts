import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  type AravisLibrary,
  GenicamError,
  loadAravis,
  type Pointer,
} from '../../../../connectors/sources/genicam/aravis-library.js';
import {
  applyFeatures,
  GenicamFeaturesSchema,
} from '../../../../connectors/sources/genicam/camera-features.js';
import {
  FAKE_CAMERA_HOOK_TIMEOUT_MS,
  type FakeCamera,
  fakeCameraInstalled,
  startFakeCamera,
} from '../../../helpers/fake-gv-camera.js';

describe('GenicamFeaturesSchema', () => {
  it('takes the features a line-scan source sets, and nothing else', () => {
    const parsed = GenicamFeaturesSchema.parse({
      width: 1024,
      offsetX: 0,
      height: 224,
      pixelFormat: 'Mono12Packed',
      exposureUs: 2500,
      frameRate: 300,
      triggerMode: 'On',
      triggerSource: 'Line0',
      extra: { GevSCPD: 1000, ReverseX: true, GainAuto: 'Off' },
    });
    expect(parsed.triggerSelector).toBeUndefined();
    expect(GenicamFeaturesSchema.safeParse({ width: 0 }).success).toBe(false);
    expect(GenicamFeaturesSchema.safeParse({ offsetX: -1 }).success).toBe(false);
    expect(GenicamFeaturesSchema.safeParse({ pixelFormat: 'RGB8' }).success).toBe(false);
    expect(GenicamFeaturesSchema.safeParse({ Width: 1024 }).success).toBe(false);
    expect(GenicamFeaturesSchema.safeParse({ extra: { 'not a name': 1 } }).success).toBe(false);
  });
});

describe.skipIf(!fakeCameraInstalled && process.env.CI !== 'true')(
  'applyFeatures on the fake GigE Vision camera',
  () => {
    let fake: FakeCamera;
    let aravis: AravisLibrary;
    let camera: Pointer;
    beforeAll(async () => {
      fake = await startFakeCamera();
      aravis = await loadAravis();
    }, FAKE_CAMERA_HOOK_TIMEOUT_MS);
    afterAll(() => fake?.dispose());
    beforeEach(() => {
      const opened = aravis.check('arv_camera_new', (e) => aravis.fn.arv_camera_new('127.0.0.1', e));
      if (opened === null) throw new Error('fake camera did not open');
      camera = opened;
    });
    afterEach(() => aravis.fn.g_object_unref(camera));

    const failure = (features: Parameters<typeof applyFeatures>[2]): GenicamError => {
      try {
        applyFeatures(aravis, camera, features);
      } catch (error) {
        if (error instanceof GenicamError) return error;
        throw error;
      }
      throw new Error('applyFeatures did not fail');
    };

    it('sets the line format, exposure, rate, trigger and packet size, and reads back what the camera took', () => {
      const readback = applyFeatures(aravis, camera, {
        width: 1024,
        height: 224,
        offsetX: 16,
        pixelFormat: 'Mono16',
        exposureUs: 5000,
        frameRate: 300,
        triggerMode: 'Off',
        triggerSource: 'Software',
        packetSize: 1200,
        extra: { GainRaw: 2 },
      });
      expect(readback).toMatchObject({
        PixelFormat: 'Mono16',
        Width: 1024,
        Height: 224,
        OffsetX: 16,
        ExposureTimeAbs: 5000,
        TriggerSelector: 'FrameStart',
        TriggerSource: 'Software',
        TriggerMode: 'Off',
        GevSCPSPacketSize: 1200,
        GainRaw: 2,
        PayloadSize: 1024 * 224 * 2,
      });
      // The fake camera runs on a whole-µs period: 300 Hz reads back as 1e6 / 3333 Hz.
      expect(readback.AcquisitionFrameRate).toBeCloseTo(300, 0);
      expect(Object.keys(readback)).not.toContain('ExposureTime');
    });

    it('names the feature the camera lacks, with the fallback names tried', () => {
      const gain = failure({ extra: { Gain: 3 } });
      expect(gain.feature).toBe('Gain');
      expect(gain.message).toMatch(/^GenICam Gain = 3: the camera has no feature Gain/);
      expect(gain.transient).toBe(false);
    });

    it('refuses an out-of-range value instead of writing it, naming the feature and the value', () => {
      const wide = failure({ width: 5000 });
      expect(wide.feature).toBe('Width');
      expect(wide.message).toMatch(/^GenICam Width = 5000: .*5000.*2048/);
      const fast = failure({ frameRate: 5000 });
      expect(fast.message).toMatch(
        /^GenICam AcquisitionFrameRate = 5000: outside the camera's range \[0\.1, 1000\] Hz/,
      );
    });

    it('lists the pixel formats the camera offers when it refuses one', () => {
      const format = failure({ pixelFormat: 'Mono12Packed' });
      expect(format.feature).toBe('PixelFormat');
      expect(format.message).toMatch(
        /^GenICam PixelFormat = Mono12Packed: .*the camera offers .*Mono8.*Mono16/,
      );
    });

    it('needs a value of the feature kind (a number for an integer, true to execute a command)', () => {
      expect(failure({ extra: { Width: 'wide' } }).message).toMatch(/Width needs an integer/);
      expect(failure({ extra: { TriggerSoftware: 1 } }).message).toMatch(/TriggerSoftware needs true/);
    });
  },
);
