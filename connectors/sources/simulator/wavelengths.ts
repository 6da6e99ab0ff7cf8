/** Band layouts of the simulated cameras. */

/** Named band layouts: `default` (Cubert-like 61 bands 430-910 nm), Specim `fx10` and `fx17`. */
export type SimPreset = 'default' | 'fx10' | 'fx17';

/** The presets {@link simWavelengths} knows, for option validation and CLI help. */
export const SIM_PRESETS: readonly SimPreset[] = ['default', 'fx10', 'fx17'];

/** Band count and range of each preset (nm, both ends inclusive, evenly spaced). */
export const SIM_PRESET_LAYOUTS: Readonly<Record<SimPreset, { bands: number; min: number; max: number }>> = {
  default: { bands: 61, min: 430, max: 910 },
  fx10: { bands: 224, min: 400, max: 1000 },
  fx17: { bands: 224, min: 900, max: 1700 },
};

/** `bands` evenly spaced wavelengths from `min` to `max` nm, both included. */
export function linearWavelengths(bands: number, min: number, max: number): Float32Array {
  const out = new Float32Array(bands);
  const step = bands > 1 ? (max - min) / (bands - 1) : 0;
  for (let i = 0; i < bands; i++) out[i] = min + i * step;
  return out;
}

/**
 * The band centres (nm) of a preset.
 *
 * @example
 * ```ts
 * simWavelengths('fx10').length; // 224
 * ```
 */
export function simWavelengths(preset: SimPreset): Float32Array {
  const { bands, min, max } = SIM_PRESET_LAYOUTS[preset];
  return linearWavelengths(bands, min, max);
}
