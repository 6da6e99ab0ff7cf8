import type { WavelengthUnits } from '../../core/frame.js';
import { type BandpassRange, selectBands } from '../../model/band-selection.js';
import { ChannelCountError, WavelengthSelectionError } from '../../model/model-errors.js';

/** Which input bands a fused graph keeps, for one wavelength vector. */
export interface BandPlan {
  /** Indices of the kept bands, ascending. */
  readonly kept: Int32Array;
  /** Channels of the input frames. */
  readonly inChannels: number;
  /** Cache key of the wavelength vector (its values, comma-separated). */
  readonly key: string;
}

/** Options of {@link bandPlanner}. */
export interface BandPlannerOptions {
  /** Band-pass range (docs/maths.md §3.1); absent: every band is kept, whatever the units. */
  readonly bandpass?: BandpassRange | undefined;
  /** Channels the model expects after the band-pass. */
  readonly expected: number;
  /** Stage named in a {@link ChannelCountError} (the tfjs stage that would have raised it). */
  readonly countStage: string;
}

const BANDPASS_STAGE = 'bandpassByWavelength';

/**
 * A per-subscription memo from a frame's wavelength vector to its {@link BandPlan}, raising the
 * same errors as the tfjs chain: {@link WavelengthSelectionError} (`bandpassByWavelength`) for
 * band indices instead of nm or no band in range, {@link ChannelCountError} (`countStage`)
 * when the band-pass (or, without one, the frame) has a different number of bands than the model.
 *
 * @example
 * ```ts
 * const plan = bandPlanner({ bandpass: { minNm: 700 }, expected: 27, countStage: 'zscoreNormalize' });
 * plan(frame.wavelengths, frame.wavelengthUnits).kept; // Int32Array(27)
 * ```
 */
export function bandPlanner(
  options: BandPlannerOptions,
): (wavelengths: Float32Array, units: WavelengthUnits) => BandPlan {
  const { bandpass, expected, countStage } = options;
  const describe = bandpass === undefined ? '' : `[${bandpass.minNm}, ${bandpass.maxNm ?? '∞'}] nm`;
  const byIdentity = new WeakMap<Float32Array, BandPlan>();
  return (wavelengths, units) => {
    if (bandpass === undefined) {
      if (wavelengths.length !== expected)
        throw new ChannelCountError(countStage, expected, wavelengths.length);
    } else if (units !== 'nm') {
      throw new WavelengthSelectionError(
        BANDPASS_STAGE,
        wavelengths,
        `needs wavelengths in nm to keep ${describe}, but the frame has band indices`,
      );
    }
    const known = byIdentity.get(wavelengths);
    if (known !== undefined) return known;
    const kept =
      bandpass === undefined ? Int32Array.from(wavelengths, (_, i) => i) : selectBands(wavelengths, bandpass);
    if (kept.length === 0) {
      throw new WavelengthSelectionError(
        BANDPASS_STAGE,
        wavelengths,
        `no band within ${describe} (frame spans ${Math.min(...wavelengths)}-${Math.max(...wavelengths)} nm)`,
      );
    }
    if (kept.length !== expected) throw new ChannelCountError(countStage, expected, kept.length);
    const plan: BandPlan = { kept, inChannels: wavelengths.length, key: wavelengths.join(',') };
    // Frames usually share one wavelength array; a source that makes a new one per frame still hits the session cache by key.
    byIdentity.set(wavelengths, plan);
    return plan;
  };
}
