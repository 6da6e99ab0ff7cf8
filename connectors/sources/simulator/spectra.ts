/**
 * Reflectance spectra of the simulated materials and the effective illumination of the camera:
 * smooth analytic functions of wavelength (nm), valid from 400 to 1700 nm, so any band layout
 * samples them. Shapes follow the physics loosely: chlorophyll-free seed coats with water,
 * starch and protein absorptions in the SWIR, flat grey minerals, coloured polymers with sharp
 * C-H overtone bands near 930, 1210 and 1400 nm, and a dark carbon-black rubber belt.
 */
import {
  SIM_BELT,
  SIM_BLACK_LENTIL,
  SIM_BROWN_LENTIL,
  SIM_HUSK,
  SIM_PLASTIC,
  SIM_STONE,
  SIM_WOOD,
} from './classes.js';

const gauss = (x: number, mu: number, sigma: number): number => {
  const z = (x - mu) / sigma;
  return Math.exp(-0.5 * z * z);
};
const sigmoid = (x: number, mu: number, width: number): number => 1 / (1 + Math.exp(-(x - mu) / width));

/** Water, starch and protein absorptions of dry seeds (multiplicative, 1 = none). */
const seedAbsorption = (l: number): number =>
  1 -
  0.06 * gauss(l, 970, 25) -
  0.18 * gauss(l, 1200, 50) -
  0.4 * gauss(l, 1450, 60) -
  0.08 * gauss(l, 1510, 30);

/** C-H overtone and combination bands of common polymers (PE, PP, PET). */
const polymerAbsorption = (l: number): number =>
  1 -
  0.14 * gauss(l, 930, 10) -
  0.05 * gauss(l, 1020, 10) -
  0.3 * gauss(l, 1210, 12) -
  0.18 * gauss(l, 1395, 14) -
  0.12 * gauss(l, 1420, 10) -
  0.1 * gauss(l, 1540, 15);

const blackLentil = (l: number): number =>
  (0.03 + 0.012 * sigmoid(l, 650, 40) + 0.045 * sigmoid(l, 770, 40) + 0.22 * sigmoid(l, 1050, 70)) *
  seedAbsorption(l);

const brownLentil = (l: number): number =>
  (0.05 + 0.1 * sigmoid(l, 560, 40) + 0.3 * sigmoid(l, 700, 30) + 0.05 * sigmoid(l, 900, 80)) *
  seedAbsorption(l);

const stone = (l: number): number =>
  (0.24 + 0.06 * sigmoid(l, 550, 80) + 0.03 * sigmoid(l, 1200, 200)) *
  (1 - 0.06 * gauss(l, 510, 35) - 0.08 * gauss(l, 900, 70) - 0.12 * gauss(l, 1410, 20));

const belt = (l: number): number => 0.05 + 0.008 * ((l - 400) / 1300) - 0.004 * gauss(l, 1700, 60);

const husk = (l: number): number =>
  (0.12 + 0.25 * sigmoid(l, 540, 50) + 0.18 * sigmoid(l, 720, 50)) *
  (1 - 0.03 * gauss(l, 970, 25) - 0.1 * gauss(l, 1200, 45) - 0.22 * gauss(l, 1470, 55));

const wood = (l: number): number =>
  (0.07 + 0.12 * sigmoid(l, 560, 60) + 0.22 * sigmoid(l, 700, 60) + 0.05 * sigmoid(l, 1000, 100)) *
  (1 -
    0.05 * gauss(l, 970, 25) -
    0.12 * gauss(l, 1200, 45) -
    0.3 * gauss(l, 1460, 55) -
    0.1 * gauss(l, 1680, 20));

/** Pigment colours of plastic fragments; each fragment gets one (its spectral variant). */
const plasticColours: readonly ((l: number) => number)[] = [
  // blue (phthalocyanine-like: reflects blue, transparent again in the NIR)
  (l) => 0.06 + 0.4 * gauss(l, 465, 45) + 0.55 * sigmoid(l, 720, 25),
  // red (sharp red edge near 600 nm)
  (l) => 0.05 + 0.6 * sigmoid(l, 600, 15),
  // white (TiO2: high and flat, drop in the near UV)
  (l) => 0.72 - 0.25 * (1 - sigmoid(l, 420, 15)),
  // green
  (l) => 0.05 + 0.3 * gauss(l, 530, 40) + 0.5 * sigmoid(l, 730, 25),
];

/** Number of spectral variants per class (plastic fragments come in several colours). */
export function materialVariants(classId: number): number {
  return classId === SIM_PLASTIC ? plasticColours.length : 1;
}

/**
 * Mean reflectance (0-1) of a material at wavelength `nm`.
 *
 * @param classId - one of the simulator's class ids (see `SIM_CLASSES`)
 * @param variant - spectral variant (plastic colour), 0 otherwise
 * @example
 * ```ts
 * import { SIM_STONE } from './classes.js';
 * materialReflectance(SIM_STONE, 700); // ~0.29
 * ```
 */
export function materialReflectance(classId: number, nm: number, variant = 0): number {
  switch (classId) {
    case SIM_BLACK_LENTIL:
      return blackLentil(nm);
    case SIM_BROWN_LENTIL:
      return brownLentil(nm);
    case SIM_STONE:
      return stone(nm);
    case SIM_BELT:
      return belt(nm);
    case SIM_HUSK:
      return husk(nm);
    case SIM_PLASTIC: {
      const colour = plasticColours[variant % plasticColours.length] ?? plasticColours[0]!;
      return Math.min(0.85, colour(nm) * polymerAbsorption(nm));
    }
    case SIM_WOOD:
      return wood(nm);
    default:
      return 0;
  }
}

/** Samples {@link materialReflectance} at every band. */
export function materialSpectrum(classId: number, wavelengths: Float32Array, variant = 0): Float32Array {
  const out = new Float32Array(wavelengths.length);
  for (let i = 0; i < wavelengths.length; i++)
    out[i] = materialReflectance(classId, wavelengths[i]!, variant);
  return out;
}

/** Planck spectral radiance shape at `nm` for temperature `kelvin` (arbitrary units). */
function planck(nm: number, kelvin: number): number {
  const x = 1.4388e7 / (nm * kelvin); // hc / (lambda k T) with lambda in nm
  return 1 / (nm ** 5 * Math.expm1(x));
}

/** Quantum efficiency shape of a silicon (VNIR) or InGaAs (SWIR) detector. */
function detectorEfficiency(nm: number, detector: 'silicon' | 'ingaas'): number {
  return detector === 'silicon'
    ? sigmoid(nm, 400, 30) * (1 - sigmoid(nm, 1000, 45))
    : sigmoid(nm, 880, 15) * (1 - sigmoid(nm, 1690, 15));
}

/**
 * Effective illumination x detector response per band, peak 1: a halogen lamp (3200 K blackbody,
 * low in the blue) seen by a silicon detector, or an InGaAs one when the bands start at 900 nm or
 * above (the FX17 range).
 */
export function illuminationResponse(wavelengths: Float32Array): Float32Array {
  let min = Number.POSITIVE_INFINITY;
  for (const w of wavelengths) min = Math.min(min, w);
  const detector = min >= 900 ? 'ingaas' : 'silicon';
  const out = new Float32Array(wavelengths.length);
  let peak = 0;
  for (let i = 0; i < wavelengths.length; i++) {
    const w = wavelengths[i]!;
    const v = planck(w, 3200) * detectorEfficiency(w, detector);
    out[i] = v;
    peak = Math.max(peak, v);
  }
  for (let i = 0; i < out.length; i++) out[i] = Math.max(out[i]! / peak, 1e-3);
  return out;
}
