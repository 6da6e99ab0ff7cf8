import { from, lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { rejectInvalidFrames } from '../../operators/reject-invalid-frames.js';
import {
  type CubeFrame,
  createFrame,
  type InvalidFrameError,
  type Radiometry,
} from '../../src/core/frame.js';

const input = {
  bands: 2,
  wavelengths: [500, 600],
  wavelengthUnits: 'nm' as const,
  radiometry: 'reflectance' as const,
};

function frame(frameId: number, radiometry?: Radiometry): CubeFrame {
  return createFrame({
    frameId,
    height: 1,
    width: 2,
    bands: 2,
    wavelengths: [500, 600],
    data: Float32Array.of(0.1, 0.2, 0.3, 0.4),
    ...(radiometry === undefined ? {} : { radiometry }),
  });
}

describe('rejectInvalidFrames: the pipeline gate checks radiometry against the bundle', () => {
  it('drops a counts frame for a reflectance model with reason radiometry, passes the others on', async () => {
    const rejected: [number, InvalidFrameError][] = [];
    const passed = await lastValueFrom(
      from([frame(1, 'counts'), frame(2, 'reflectance'), frame(3)]).pipe(
        rejectInvalidFrames({ input, onReject: (f, e) => rejected.push([f.frameId, e]) }),
        toArray(),
      ),
    );
    expect(passed.map((f) => f.frameId)).toEqual([2, 3]);
    expect(rejected.map(([id, e]) => [id, e.code])).toEqual([[1, 'radiometry']]);
    expect(rejected[0]?.[1].message).toContain('the model was trained on reflectance');
  });
});
