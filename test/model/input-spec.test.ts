import { describe, expect, it } from 'vitest';
import { createFrame, InvalidFrameError } from '../../src/core/frame.js';
import { checkFrameMatchesInput } from '../../src/model/input-spec.js';

const input = { bands: 3, wavelengths: [500, 600, 700], wavelengthUnits: 'nm' as const };
const frameWith = (wavelengths: number[]) =>
  createFrame({
    height: 1,
    width: 1,
    bands: wavelengths.length,
    data: new Float32Array(wavelengths.length),
    wavelengths,
  });

describe('checkFrameMatchesInput', () => {
  it('accepts matching bands within tolerance', () => {
    expect(() => checkFrameMatchesInput(input, frameWith([500.2, 600, 699.7]))).not.toThrow();
  });

  it('rejects another band count with reason bands', () => {
    const error = (() => {
      try {
        checkFrameMatchesInput(input, frameWith([500, 600]));
      } catch (e) {
        return e as InvalidFrameError;
      }
    })();
    expect(error).toBeInstanceOf(InvalidFrameError);
    expect(error?.code).toBe('bands');
    expect(error?.message).toBe('invalid frame: bands = 2: the model expects 3 bands');
  });

  it('says which bands differ', () => {
    expect(() => checkFrameMatchesInput(input, frameWith([500, 610, 720]))).toThrow(
      "invalid frame: wavelengths = Float32Array(3): 2 of 3 bands differ from the model's by more than 0.5 nm (band 1: model 600.00, frame 610.00; band 2: model 700.00, frame 720.00)",
    );
  });
});

describe('checkFrameMatchesInput: radiometry', () => {
  const countsFrame = createFrame({
    height: 1,
    width: 1,
    bands: 3,
    data: new Float32Array(3),
    wavelengths: [500, 600, 700],
    radiometry: 'counts',
  });
  const { radiometry: _r, ...unstatedFrame } = countsFrame;

  it('rejects a counts frame for a reflectance model with reason radiometry, saying what to do', () => {
    const error = (() => {
      try {
        checkFrameMatchesInput({ ...input, radiometry: 'reflectance' }, countsFrame);
      } catch (e) {
        return e as InvalidFrameError;
      }
    })();
    expect(error).toBeInstanceOf(InvalidFrameError);
    expect(error?.code).toBe('radiometry');
    expect(error?.message).toBe(
      'invalid frame: radiometry = "counts": the model was trained on reflectance (set source.calibration or use a counts model)',
    );
  });

  it('rejects a reflectance frame for a counts model', () => {
    expect(() =>
      checkFrameMatchesInput(
        { ...input, radiometry: 'counts' },
        { ...countsFrame, radiometry: 'reflectance' },
      ),
    ).toThrow('the model was trained on counts');
  });

  it('accepts when both agree or either side does not state it', () => {
    expect(() => checkFrameMatchesInput({ ...input, radiometry: 'counts' }, countsFrame)).not.toThrow();
    expect(() => checkFrameMatchesInput(input, countsFrame)).not.toThrow();
    expect(() =>
      checkFrameMatchesInput({ ...input, radiometry: 'reflectance' }, unstatedFrame),
    ).not.toThrow();
  });
});
