import { type CubeFrame, InvalidFrameError, type Radiometry, type WavelengthUnits } from '../core/frame.js';

/** What a model expects of its input frames: band count, wavelengths and, when known, radiometry. */
export interface InputSpec {
  readonly bands: number;
  readonly wavelengths: readonly number[];
  readonly wavelengthUnits: WavelengthUnits;
  /** What the model was trained on: counts or reflectance; absent when its data did not say. */
  readonly radiometry?: Radiometry;
}

/** Default tolerance when comparing wavelengths (nm): half the finest band spacing of common sensors. */
export const DEFAULT_WAVELENGTH_TOLERANCE_NM = 0.5;

/**
 * Checks that a frame has the radiometry and the bands a model was trained on. The error says
 * which bands differ (at most five listed), so a plant engineer sees e.g. a swapped camera or a
 * changed binning. Radiometry is compared only when both the frame and the model state it.
 *
 * @throws {@link InvalidFrameError} with reason `radiometry` (counts against a reflectance
 *   model or the other way round), `bands` (count differs) or `wavelengths`
 * @example
 * ```ts
 * checkFrameMatchesInput(bundle.manifest.input, frame); // before the first tensor stage
 * ```
 */
export function checkFrameMatchesInput(
  input: InputSpec,
  frame: Pick<CubeFrame, 'bands' | 'wavelengths' | 'wavelengthUnits' | 'radiometry'>,
  toleranceNm: number = DEFAULT_WAVELENGTH_TOLERANCE_NM,
): void {
  if (
    frame.radiometry !== undefined &&
    input.radiometry !== undefined &&
    frame.radiometry !== input.radiometry
  ) {
    throw new InvalidFrameError(
      'radiometry',
      'radiometry',
      frame.radiometry,
      input.radiometry === 'reflectance'
        ? 'the model was trained on reflectance (set source.calibration or use a counts model)'
        : 'the model was trained on counts (remove source.calibration or use a reflectance model)',
    );
  }
  if (frame.bands !== input.bands) {
    throw new InvalidFrameError('bands', 'bands', frame.bands, `the model expects ${input.bands} bands`);
  }
  // Index-only frames cannot be checked against physical wavelengths (and vice versa): counts must do.
  if (frame.wavelengthUnits !== input.wavelengthUnits) return;
  const tolerance = input.wavelengthUnits === 'index' ? 0 : toleranceNm;
  const differing: string[] = [];
  let count = 0;
  for (let b = 0; b < input.bands; b++) {
    const expected = input.wavelengths[b] ?? Number.NaN;
    const got = frame.wavelengths[b] ?? Number.NaN;
    if (!(Math.abs(expected - got) <= tolerance)) {
      count++;
      if (differing.length < 5)
        differing.push(`band ${b}: model ${expected.toFixed(2)}, frame ${got.toFixed(2)}`);
    }
  }
  if (count > 0) {
    const unit = input.wavelengthUnits === 'nm' ? ' nm' : '';
    throw new InvalidFrameError(
      'wavelengths',
      'wavelengths',
      frame.wavelengths,
      `${count} of ${input.bands} bands differ from the model's by more than ${tolerance}${unit} (${differing.join('; ')}${count > 5 ? '; …' : ''})`,
    );
  }
}
