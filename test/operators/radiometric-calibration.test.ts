import { from, lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { radiometricCalibration } from '../../operators/radiometric-calibration.js';
import { type CubeFrame, createFrame, type InvalidFrameError } from '../../src/core/frame.js';
import { FrameBufferPool } from '../../src/core/frame-buffer-pool.js';
import { ReflectanceReferencesError } from '../../src/core/reflectance.js';

// Width 2, bands 2: dark [0, 10 | 20, 0], white [100, 50 | 120, 0] (column 1 band 1 dead).
const refs = {
  width: 2,
  bands: 2,
  dark: Float32Array.of(0, 10, 20, 0),
  white: Float32Array.of(100, 50, 120, 0),
};

/** A frame of counts in a buffer lent from `pool`, so that its release can be observed. */
function pooledFrame(
  pool: FrameBufferPool,
  counts: readonly number[],
  init: Partial<Parameters<typeof createFrame>[0]> = {},
): CubeFrame {
  const width = init.width ?? 2;
  const bands = init.bands ?? 2;
  const lease = pool.lend(counts.length);
  lease.data.set(counts);
  return createFrame({
    cameraId: 'line-3',
    height: counts.length / (width * bands),
    width,
    bands,
    wavelengths: Array.from({ length: bands }, (_, b) => 500 + 100 * b),
    data: lease.data,
    release: lease.release,
    ...init,
  });
}

async function run(
  frames: CubeFrame[],
): Promise<{ out: CubeFrame[]; rejected: [CubeFrame, InvalidFrameError][] }> {
  const rejected: [CubeFrame, InvalidFrameError][] = [];
  const out = await lastValueFrom(
    from(frames).pipe(
      radiometricCalibration(refs, { onReject: (frame, error) => rejected.push([frame, error]) }),
      toArray(),
    ),
  );
  return { out, rejected };
}

describe('radiometricCalibration', () => {
  it('converts counts into a new frame in reflectance and releases the input buffer', async () => {
    const pool = new FrameBufferPool();
    // Row 0: (50-0)/100, (30-10)/40, (70-20)/100, dead; row 1: 100/100, (0-10)/40, (20-20)/100, dead.
    const frame = pooledFrame(pool, [50, 30, 70, 9, 100, 0, 20, 5], { radiometry: 'counts', frameId: 7 });
    const { out, rejected } = await run([frame]);
    expect(rejected).toEqual([]);
    expect(out).toHaveLength(1);
    const [converted] = out as [CubeFrame];
    expect(converted.radiometry).toBe('reflectance');
    expect(converted.release).toBeUndefined();
    expect(converted.data).not.toBe(frame.data);
    expect([...converted.data].map((v) => Math.round(v * 1e6) / 1e6)).toEqual([
      0.5, 0.5, 0.5, 0, 1, -0.25, 0, 0,
    ]);
    expect(converted).toMatchObject({ cameraId: 'line-3', frameId: 7, height: 2, width: 2, bands: 2 });
    // The input buffer went back to the pool: the next lease of that length reuses it.
    expect(pool.acquire(8)).toBe(frame.data);
    expect(pool.reused).toBe(1);
  });

  it('converts a frame that does not state its radiometry as counts', async () => {
    const { out } = await run([pooledFrame(new FrameBufferPool(), [100, 50, 120, 3])]);
    expect(out[0]?.radiometry).toBe('reflectance');
    expect([...(out[0]?.data ?? [])]).toEqual([1, 1, 1, 0]);
  });

  it('rejects a frame of another width, naming both widths, releases it and goes on', async () => {
    const pool = new FrameBufferPool();
    const wide = pooledFrame(pool, [1, 2, 3, 4, 5, 6], { width: 3, frameId: 1 });
    const good = pooledFrame(pool, [100, 50, 120, 3], { frameId: 2 });
    const { out, rejected } = await run([wide, good]);
    expect(out.map((f) => f.frameId)).toEqual([2]);
    expect(rejected).toHaveLength(1);
    const [frame, error] = rejected[0] as [CubeFrame, InvalidFrameError];
    expect(frame).toBe(wide);
    expect(error.code).toBe('shape');
    expect(error.message).toBe('invalid frame: width = 3: the calibration references are 2 pixels wide');
    expect(pool.acquire(6)).toBe(wide.data);
  });

  it('rejects a frame with other bands with reason shape', async () => {
    const { rejected } = await run([pooledFrame(new FrameBufferPool(), [1, 2, 3, 4, 5, 6], { bands: 3 })]);
    expect(rejected[0]?.[1].code).toBe('shape');
    expect(rejected[0]?.[1].message).toBe(
      'invalid frame: bands = 3: the calibration references have 2 bands',
    );
  });

  it('rejects a frame already in reflectance with reason radiometry (converting twice is a bug)', async () => {
    const pool = new FrameBufferPool();
    const frame = pooledFrame(pool, [0.5, 0.5, 0.5, 0], { radiometry: 'reflectance' });
    const { out, rejected } = await run([frame]);
    expect(out).toEqual([]);
    expect(rejected[0]?.[1].code).toBe('radiometry');
    expect(rejected[0]?.[1].message).toBe(
      'invalid frame: radiometry = "reflectance": the frame is already in reflectance: it would be calibrated twice',
    );
    expect(pool.acquire(4)).toBe(frame.data);
  });

  it('refuses unusable references when built', () => {
    expect(() => radiometricCalibration({ ...refs, dark: new Float32Array(3) })).toThrow(
      ReflectanceReferencesError,
    );
  });
});
