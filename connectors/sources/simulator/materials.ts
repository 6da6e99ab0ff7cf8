/**
 * Per-class geometry and variability of the simulated objects: how big, how elongated, how much
 * each object's spectrum departs from its material's mean, and how textured its surface is.
 * Sizes are in units of the lentil diameter, so one option scales the whole scene.
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

/** Shape and variability of one class of objects. */
export interface MaterialTraits {
  /** Major axis length range, in lentil diameters (drawn uniformly). */
  readonly length: readonly [number, number];
  /** Major/minor axis ratio range (drawn uniformly). */
  readonly aspect: readonly [number, number];
  /** Standard deviation of the per-object log brightness scale. */
  readonly scaleSigma: number;
  /** Standard deviation of the per-object additive reflectance offset. */
  readonly offsetSigma: number;
  /** Standard deviation of the per-object spectral tilt (relative change per 600 nm). */
  readonly tiltSigma: number;
  /** Standard deviation of the per-pixel multiplicative texture. */
  readonly textureSigma: number;
  /** Brightness lost at the rim of the object (convex objects are darker at their edges). */
  readonly shading: number;
}

/** Traits of each class that the simulator draws, keyed by class id. */
export const MATERIAL_TRAITS: Readonly<Record<number, MaterialTraits>> = {
  [SIM_BLACK_LENTIL]: {
    length: [0.85, 1.15],
    aspect: [1, 1.15],
    scaleSigma: 0.08,
    offsetSigma: 0.004,
    tiltSigma: 0.03,
    textureSigma: 0.025,
    shading: 0.35,
  },
  [SIM_BROWN_LENTIL]: {
    length: [0.85, 1.15],
    aspect: [1, 1.15],
    scaleSigma: 0.08,
    offsetSigma: 0.005,
    tiltSigma: 0.03,
    textureSigma: 0.025,
    shading: 0.35,
  },
  [SIM_STONE]: {
    length: [0.6, 1.6],
    aspect: [1, 1.6],
    scaleSigma: 0.25,
    offsetSigma: 0.02,
    tiltSigma: 0.05,
    textureSigma: 0.06,
    shading: 0.3,
  },
  [SIM_BELT]: {
    length: [1, 1],
    aspect: [1, 1],
    scaleSigma: 0,
    offsetSigma: 0,
    tiltSigma: 0,
    textureSigma: 0.03,
    shading: 0,
  },
  [SIM_HUSK]: {
    length: [0.5, 1.2],
    aspect: [1.5, 3],
    scaleSigma: 0.15,
    offsetSigma: 0.01,
    tiltSigma: 0.05,
    textureSigma: 0.05,
    shading: 0.1,
  },
  [SIM_PLASTIC]: {
    length: [0.4, 1.4],
    aspect: [1, 2.5],
    scaleSigma: 0.1,
    offsetSigma: 0.01,
    tiltSigma: 0.02,
    textureSigma: 0.02,
    shading: 0.15,
  },
  [SIM_WOOD]: {
    length: [1.5, 3.5],
    aspect: [4, 8],
    scaleSigma: 0.15,
    offsetSigma: 0.01,
    tiltSigma: 0.05,
    textureSigma: 0.06,
    shading: 0.25,
  },
};

/** Relative frequency of each foreign-body class among foreign bodies (sums to 1). */
export const FOREIGN_BODY_MIX: readonly { readonly classId: number; readonly weight: number }[] = [
  { classId: SIM_STONE, weight: 0.35 },
  { classId: SIM_HUSK, weight: 0.3 },
  { classId: SIM_PLASTIC, weight: 0.15 },
  { classId: SIM_WOOD, weight: 0.2 },
];

/** Traits of `classId`; throws for a class the simulator never draws. */
export function traitsOf(classId: number): MaterialTraits {
  const traits = MATERIAL_TRAITS[classId];
  if (traits === undefined) throw new RangeError(`no material traits for class ${classId}`);
  return traits;
}

/**
 * Mean area (px²) of an object of `classId` when lentils are `diameter` px across: the ellipse
 * area pi/4 * L² / aspect, averaged over the uniform length and aspect ranges.
 */
export function meanObjectArea(classId: number, diameter: number): number {
  const { length, aspect } = traitsOf(classId);
  const [l0, l1] = [length[0] * diameter, length[1] * diameter];
  const meanSquareLength = (l0 * l0 + l0 * l1 + l1 * l1) / 3;
  const [a0, a1] = aspect;
  const meanInverseAspect = a1 > a0 ? Math.log(a1 / a0) / (a1 - a0) : 1 / a0;
  return (Math.PI / 4) * meanSquareLength * meanInverseAspect;
}
