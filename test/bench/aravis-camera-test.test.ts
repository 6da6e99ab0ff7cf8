import { describe, expect, it } from 'vitest';
import { AravisCameraTestError, parseAravisCameraTest } from '../../bench/aravis-camera-test.js';

/** What arv-camera-test-0.8 (0.8.26) printed against the fake camera at 1024 x 224 Mono16, 330 Hz, 4 s. */
const OUTPUT = `Looking for camera '127.0.0.1'
vendor name            = Aravis
model name             = Fake
device serial number   = GV01
image width            = 1024
image height           = 224
payload                = 458752 bytes
gv packet size         = 1400 bytes
314 frames/s -     144 MiB/s
330 frames/s -     151 MiB/s
328 frames/s -     150 MiB/s
326 frames/s -     150 MiB/s
n_completed_buffers    = 1300
n_failures             = 2
n_underruns            = 0
n_timeouts             = 0
n_missing_frames       = 3
n_received_packets     = 440745
`;

describe('parseAravisCameraTest', () => {
  it('averages the per-second rates without the first second and reads the statistics', () => {
    expect(parseAravisCameraTest(OUTPUT)).toEqual({
      perSecond: [314, 330, 328, 326],
      framesPerSecond: 328,
      completed: 1300,
      failures: 2,
      missingFrames: 3,
      payloadBytes: 458752,
    });
  });

  it('takes a single second as it is', () => {
    expect(parseAravisCameraTest('290 frames/s -     50 MiB/s\n').framesPerSecond).toBe(290);
  });

  it('fails, quoting the output, when no rate was printed', () => {
    expect(() => parseAravisCameraTest('No device found\n')).toThrow(AravisCameraTestError);
    expect(() => parseAravisCameraTest('No device found\n')).toThrow(/No device found/);
  });
});
