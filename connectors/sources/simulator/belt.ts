/**
 * The conveyor belt as a continuous scene in belt coordinates (x across, y along the travel):
 * objects (ellipses) arrive as a Poisson process ordered by their centre's y, live in an active
 * list while they overlap the current line, and are painted in arrival order (later objects lie
 * on top). Lines are rasterised one after another, so an object cut by a block or frame boundary
 * continues in the next block exactly as on a real belt.
 */
import { SIM_BELT, SIM_BLACK_LENTIL, SIM_BROWN_LENTIL } from './classes.js';
import {
  FOREIGN_BODY_MIX,
  MATERIAL_TRAITS,
  type MaterialTraits,
  meanObjectArea,
  traitsOf,
} from './materials.js';
import type { SimRandom } from './rng.js';
import { materialSpectrum, materialVariants } from './spectra.js';

/** One object on the belt (or the belt itself), with its own spectrum. */
export interface BeltObject {
  /** Object number in order of arrival (0, 1, ...; the belt itself is -1). */
  readonly id: number;
  /** Class id (see `SIM_CLASSES`). */
  readonly classId: number;
  /** Centre across the belt (px). */
  readonly cx: number;
  /** Centre along the belt (lines). */
  readonly cy: number;
  /** Quadratic form of the ellipse: A dx² + B dx dy + C dy² <= 1 inside. */
  readonly qa: number;
  readonly qb: number;
  readonly qc: number;
  /** Last belt line (pixel centre) the object can touch. */
  readonly yMax: number;
  /** This object's reflectance per band (material mean with its own scale, offset and tilt). */
  readonly spectrum: Float32Array;
  /** Per-pixel texture standard deviation. */
  readonly textureSigma: number;
  /** Rim darkening (fraction lost at the edge). */
  readonly shading: number;
}

/** Scene parameters, already validated. */
export interface BeltSceneOptions {
  readonly width: number;
  readonly wavelengths: Float32Array;
  readonly lentilDiameter: number;
  readonly coverage: number;
  readonly anomalyRate: number;
  readonly blackLentilShare: number;
}

/** Objects created so far, by class id (index = class id). */
export interface BeltStats {
  readonly objects: number;
  readonly byClass: readonly number[];
}

/**
 * Objects per px² for a Boolean model of overlapping shapes that leaves a fraction
 * `1 - coverage` of the belt visible: `-ln(1 - coverage) / E[area]`.
 */
export function objectDensity(options: BeltSceneOptions): number {
  if (options.coverage <= 0) return 0;
  const d = options.lentilDiameter;
  const lentils =
    options.blackLentilShare * meanObjectArea(SIM_BLACK_LENTIL, d) +
    (1 - options.blackLentilShare) * meanObjectArea(SIM_BROWN_LENTIL, d);
  let foreign = 0;
  for (const { classId, weight } of FOREIGN_BODY_MIX) foreign += weight * meanObjectArea(classId, d);
  const meanArea = (1 - options.anomalyRate) * lentils + options.anomalyRate * foreign;
  return -Math.log(1 - options.coverage) / meanArea;
}

/** The belt scene: call {@link BeltScene.rasterise} for lines 0, 1, 2, ... in order. */
export class BeltScene {
  private beltObject: BeltObject;
  private readonly options: BeltSceneOptions;
  private readonly random: SimRandom;
  private readonly tilt: Float32Array;
  private readonly baseSpectra = new Map<number, Float32Array>();
  private readonly margin: number;
  private readonly ratePerLine: number;
  private readonly active: BeltObject[] = [];
  private nextY: number;
  private nextLine = 0;
  private readonly counts: number[] = new Array<number>(256).fill(0);
  private created = 0;
  private anomalyRate: number;
  private blackLentilShare: number;
  private shiftNm = 0;
  private sampled: Float32Array;

  /**
   * @param options - scene parameters
   * @param random - the geometry stream (positions, classes, per-object variability)
   */
  constructor(options: BeltSceneOptions, random: SimRandom) {
    this.options = options;
    this.random = random;
    this.anomalyRate = options.anomalyRate;
    this.blackLentilShare = options.blackLentilShare;
    this.sampled = options.wavelengths;
    this.tilt = options.wavelengths.map((w) => (w - 1000) / 600);
    let longest = 0;
    for (const traits of Object.values(MATERIAL_TRAITS)) longest = Math.max(longest, traits.length[1]);
    this.margin = (longest * options.lentilDiameter) / 2 + 1;
    this.ratePerLine = objectDensity(options) * (options.width + 2 * this.margin);
    this.nextY = -this.margin;
    this.advanceArrival();
    this.beltObject = {
      id: -1,
      classId: SIM_BELT,
      cx: 0,
      cy: 0,
      qa: 0,
      qb: 0,
      qc: 0,
      yMax: Number.POSITIVE_INFINITY,
      spectrum: this.baseSpectrum(SIM_BELT, 0),
      textureSigma: traitsOf(SIM_BELT).textureSigma,
      shading: 0,
    };
  }

  /** The belt background as an object (owner -1 in {@link BeltScene.rasterise}). */
  get belt(): BeltObject {
    return this.beltObject;
  }

  /**
   * Changes the mix of objects arriving from now on (a drift scenario): the foreign-body share
   * and the black-lentil share; undefined keeps the configured value. The arrival rate stays
   * that of the configured mix.
   */
  setMix(anomalyRate: number | undefined, blackLentilShare: number | undefined): void {
    this.anomalyRate = anomalyRate ?? this.options.anomalyRate;
    this.blackLentilShare = blackLentilShare ?? this.options.blackLentilShare;
  }

  /**
   * Shifts every band's true centre by `nm` (a drift scenario): objects arriving from now on,
   * and the belt, reflect as at the shifted wavelengths.
   */
  setWavelengthShift(nm: number): void {
    if (nm === this.shiftNm) return;
    this.shiftNm = nm;
    this.sampled = this.options.wavelengths.map((w) => w + nm);
    this.baseSpectra.clear();
    this.beltObject = { ...this.beltObject, spectrum: this.baseSpectrum(SIM_BELT, 0) };
  }

  /** Objects created so far (including those partly or wholly outside the field of view). */
  stats(): BeltStats {
    return { objects: this.created, byClass: this.counts.slice(0, 8) };
  }

  /**
   * Paints belt line `y` (must be the next line): `owner[x]` gets the index into the returned
   * list of the topmost object covering pixel x (-1 for the belt) and `radius2[x]` its normalised
   * squared radius there (0 at the centre, 1 at the rim).
   */
  rasterise(y: number, owner: Int32Array, radius2: Float32Array): readonly BeltObject[] {
    if (y !== this.nextLine) throw new RangeError(`belt line ${y} requested, expected ${this.nextLine}`);
    this.nextLine++;
    const centre = y + 0.5;
    while (this.nextY <= centre + this.margin) {
      this.active.push(this.spawn(this.nextY));
      this.advanceArrival();
    }
    let kept = 0;
    for (const object of this.active) if (object.yMax >= centre) this.active[kept++] = object;
    this.active.length = kept;

    const width = this.options.width;
    owner.fill(-1);
    radius2.fill(0);
    for (let k = 0; k < this.active.length; k++) {
      const o = this.active[k]!;
      const dy = centre - o.cy;
      const bdy = o.qb * dy;
      const disc = bdy * bdy - 4 * o.qa * (o.qc * dy * dy - 1);
      if (disc < 0) continue;
      const root = Math.sqrt(disc);
      const x0 = Math.max(0, Math.ceil(o.cx + (-bdy - root) / (2 * o.qa) - 0.5));
      const x1 = Math.min(width - 1, Math.floor(o.cx + (-bdy + root) / (2 * o.qa) - 0.5));
      const cdy = o.qc * dy * dy;
      for (let x = x0; x <= x1; x++) {
        const dx = x + 0.5 - o.cx;
        owner[x] = k;
        radius2[x] = Math.min(1, o.qa * dx * dx + bdy * dx + cdy);
      }
    }
    return this.active;
  }

  private advanceArrival(): void {
    // Exponential gaps: a Poisson process of object centres along the belt.
    this.nextY += this.ratePerLine > 0 ? -Math.log(1 - this.random.uniform()) / this.ratePerLine : Infinity;
  }

  private drawClass(): number {
    const r = this.random;
    if (r.uniform() < this.anomalyRate) {
      let u = r.uniform();
      for (const { classId, weight } of FOREIGN_BODY_MIX) {
        if (u < weight) return classId;
        u -= weight;
      }
      return FOREIGN_BODY_MIX[FOREIGN_BODY_MIX.length - 1]!.classId;
    }
    return r.uniform() < this.blackLentilShare ? SIM_BLACK_LENTIL : SIM_BROWN_LENTIL;
  }

  private baseSpectrum(classId: number, variant: number): Float32Array {
    const key = classId * 64 + variant;
    let spectrum = this.baseSpectra.get(key);
    if (spectrum === undefined) {
      spectrum = materialSpectrum(classId, this.sampled, variant);
      this.baseSpectra.set(key, spectrum);
    }
    return spectrum;
  }

  private objectSpectrum(classId: number, traits: MaterialTraits): Float32Array {
    const r = this.random;
    const variants = materialVariants(classId);
    const base = this.baseSpectrum(classId, variants > 1 ? Math.floor(r.uniform() * variants) : 0);
    const scale = Math.exp(traits.scaleSigma * r.normal());
    const offset = traits.offsetSigma * r.normal();
    const tilt = traits.tiltSigma * r.normal();
    const out = new Float32Array(base.length);
    for (let b = 0; b < base.length; b++) {
      const v = base[b]! * scale * (1 + tilt * this.tilt[b]!) + offset;
      out[b] = Math.min(0.95, Math.max(0.002, v));
    }
    return out;
  }

  private spawn(cy: number): BeltObject {
    const r = this.random;
    const classId = this.drawClass();
    const traits = traitsOf(classId);
    const d = this.options.lentilDiameter;
    const length = d * r.between(traits.length[0], traits.length[1]);
    const aspect = r.between(traits.aspect[0], traits.aspect[1]);
    const a = length / 2;
    const b = a / aspect;
    const theta = r.uniform() * Math.PI;
    const cos = Math.cos(theta);
    const sin = Math.sin(theta);
    const ia = 1 / (a * a);
    const ib = 1 / (b * b);
    const cx = r.between(-this.margin, this.options.width + this.margin);
    const halfHeight = Math.sqrt(a * a * sin * sin + b * b * cos * cos);
    const id = this.created++;
    this.counts[classId] = (this.counts[classId] ?? 0) + 1;
    return {
      id,
      classId,
      cx,
      cy,
      qa: cos * cos * ia + sin * sin * ib,
      qb: 2 * sin * cos * (ia - ib),
      qc: sin * sin * ia + cos * cos * ib,
      yMax: cy + halfHeight,
      spectrum: this.objectSpectrum(classId, traits),
      textureSigma: traits.textureSigma,
      shading: traits.shading,
    };
  }
}
