/**
 * The camera side of the simulator: illumination (halogen, low in the blue) with a slow drift,
 * fixed cross-track vignetting and pixel gain non-uniformity, shot and read noise, 12-bit
 * quantisation and clipping, and dead sensor elements stuck at 0 or full scale.
 *
 * The hot loop avoids allocations and transcendental functions: normal variates come from a
 * precomputed table indexed by an inline xorshift32 stream.
 */
import type { BeltObject } from './belt.js';
import type { ResolvedSimOptions } from './options.js';
import { NORMAL_TABLE_BITS, normalTable, type SimRandom } from './rng.js';

const TABLE_SHIFT = 32 - NORMAL_TABLE_BITS;

import { illuminationResponse } from './spectra.js';

/** One dead sensor element: spatial column `x`, band `band`, stuck at `dn`. */
export interface DeadElement {
  readonly x: number;
  readonly band: number;
  readonly dn: number;
}

/** A sensor element that dies during the run: dead from belt line `fromLine` on. */
export interface DyingElement extends DeadElement {
  readonly fromLine: number;
}

/** Standard deviation of the fixed per-column gain non-uniformity (PRNU). */
const COLUMN_GAIN_SIGMA = 0.005;

/** Senses belt lines: turns the reflectance of painted objects into noisy DN or reflectance. */
export class SensorModel {
  /** Effective illumination x detector response per band, peak 1 (at the true band centres, after any shift). */
  response: Float32Array;
  /** Fixed gain of each column (vignetting x PRNU). */
  readonly columnGain: Float32Array;
  /** Dead sensor elements, sorted by column then band. */
  readonly dead: readonly DeadElement[];
  private readonly options: ResolvedSimOptions;
  private readonly table: Float32Array;
  private readonly lineRadiance: Float32Array;
  private readonly inverseWhite: Float32Array;
  private readonly driftTilt: Float32Array;
  private readonly driftPhase: readonly [number, number];
  private noiseState: number;
  private lamp = 1;
  private lampTilt = 0;
  private shiftNm = 0;
  private dying: readonly DyingElement[] = [];

  /**
   * @param options - resolved simulator options
   * @param random - the sensor stream (PRNU, dead elements, drift phase, noise table and seed)
   */
  constructor(options: ResolvedSimOptions, random: SimRandom) {
    this.options = options;
    const { width, wavelengths } = options;
    const bands = wavelengths.length;
    this.response = illuminationResponse(wavelengths);
    this.columnGain = new Float32Array(width);
    const half = width / 2;
    for (let x = 0; x < width; x++) {
      const u = (x + 0.5 - half) / half;
      this.columnGain[x] = (1 - options.vignetting * u * u) * (1 + COLUMN_GAIN_SIGMA * random.normal());
    }
    // The white reference is taken at start (no drift): reflectance output keeps the drift.
    this.inverseWhite = new Float32Array(bands);
    for (let b = 0; b < bands; b++) this.inverseWhite[b] = 1 / (this.response[b]! * options.whiteLevel);
    let lo = Number.POSITIVE_INFINITY;
    let hi = Number.NEGATIVE_INFINITY;
    for (const w of wavelengths) {
      lo = Math.min(lo, w);
      hi = Math.max(hi, w);
    }
    const mid = (lo + hi) / 2;
    const halfRange = Math.max((hi - lo) / 2, 1);
    this.driftTilt = wavelengths.map((w) => (w - mid) / halfRange);
    this.driftPhase = [random.uniform() * 2 * Math.PI, random.uniform() * 2 * Math.PI];
    this.dead = drawDeadElements(width, bands, options.deadPixelFraction, options.fullScale, random);
    this.table = normalTable(random);
    this.noiseState = random.uint32() | 1;
    this.lineRadiance = new Float32Array(bands);
  }

  /**
   * Applies a drift scenario's state from the next line on: the lamp's level and colour tilt
   * (relative to the white reference), and a shift of every band's true centre (nm), which
   * moves the illumination response with it. The white reference stays the one taken at start.
   */
  setDrift(lamp: number, lampTilt: number, shiftNm: number): void {
    this.lamp = lamp;
    this.lampTilt = lampTilt;
    if (shiftNm !== this.shiftNm) {
      this.shiftNm = shiftNm;
      this.response = illuminationResponse(this.options.wavelengths.map((w) => w + shiftNm));
    }
  }

  /** Elements that die during the run (a drift scenario), each stuck from its `fromLine` on. */
  setDying(elements: readonly DyingElement[]): void {
    this.dying = [...elements].sort((p, q) => p.fromLine - q.fromLine);
  }

  /**
   * Illumination scale at belt line `y` (1 = as at the white reference): a slow sinusoid of
   * amplitude `illuminationDrift`, plus a colour-temperature tilt of half that amplitude.
   */
  illuminationAt(y: number, band: number): number {
    const [level, tilt] = this.drift(y);
    return 1 + level + tilt * (this.driftTilt[band] ?? 0);
  }

  private drift(y: number): [level: number, tilt: number] {
    const { illuminationDrift: amp, illuminationDriftPeriod: period } = this.options;
    return [
      amp * Math.sin((2 * Math.PI * y) / period + this.driftPhase[0]),
      0.5 * amp * Math.sin((2 * Math.PI * y) / (0.37 * period) + this.driftPhase[1]),
    ];
  }

  /**
   * Writes one sensed line into row `row` of a block.
   *
   * @param y - belt line (drives the illumination drift)
   * @param owner - per pixel, index into `objects` or -1 for the belt (from `BeltScene.rasterise`)
   * @param radius2 - per pixel, normalised squared radius inside its object
   * @param objects - the active objects `owner` refers to
   * @param belt - the belt background object
   * @param data - the block's BIP data
   * @param labels - the block's labels
   * @param row - row within the block
   */
  senseLine(
    y: number,
    owner: Int32Array,
    radius2: Float32Array,
    objects: readonly BeltObject[],
    belt: BeltObject,
    data: Float32Array,
    labels: Uint8Array,
    row: number,
  ): void {
    const { width, readNoise, shotNoise, fullScale, whiteLevel } = this.options;
    const bands = this.response.length;
    const reflectance = this.options.output === 'reflectance';
    const radiance = this.lineRadiance;
    const [level, tilt] = this.drift(y);
    const { lamp, lampTilt } = this;
    for (let b = 0; b < bands; b++) {
      const t = this.driftTilt[b]!;
      radiance[b] = this.response[b]! * whiteLevel * (1 + level + tilt * t) * lamp * (1 + lampTilt * t);
    }
    const inverseWhite = this.inverseWhite;
    const table = this.table;
    const columnGain = this.columnGain;
    const readVariance = readNoise * readNoise;
    let s = this.noiseState;
    for (let x = 0; x < width; x++) {
      const k = owner[x]!;
      const object = k < 0 ? belt : objects[k]!;
      const spectrum = object.spectrum;
      s ^= s << 13;
      s ^= s >>> 17;
      s ^= s << 5;
      const texture = 1 + object.textureSigma * table[s >>> TABLE_SHIFT]!;
      const shade = 1 - object.shading * radius2[x]!;
      const gain = columnGain[x]! * Math.max(texture, 0) * shade;
      const pixel = row * width + x;
      labels[pixel] = object.classId;
      const base = pixel * bands;
      s = sensePixel(
        spectrum,
        radiance,
        gain,
        data,
        base,
        bands,
        s,
        table,
        readVariance,
        shotNoise,
        fullScale,
      );
      if (reflectance) {
        const scale = 1 / columnGain[x]!;
        for (let b = 0; b < bands; b++) data[base + b] = data[base + b]! * inverseWhite[b]! * scale;
      }
    }
    this.noiseState = s;
    for (const d of this.dead) {
      const i = (row * width + d.x) * bands + d.band;
      data[i] = reflectance ? (d.dn * inverseWhite[d.band]!) / columnGain[d.x]! : d.dn;
    }
    for (const d of this.dying) {
      if (d.fromLine > y) break;
      const i = (row * width + d.x) * bands + d.band;
      data[i] = reflectance ? (d.dn * inverseWhite[d.band]!) / columnGain[d.x]! : d.dn;
    }
  }
}

/**
 * The per-value hot loop, kept small and monomorphic so V8 optimises it well: the mean DN of
 * each band plus shot and read noise, rounded to a whole DN and clipped to [0, fullScale].
 * Returns the updated xorshift32 state.
 */
function sensePixel(
  spectrum: Float32Array,
  radiance: Float32Array,
  gain: number,
  data: Float32Array,
  base: number,
  bands: number,
  state: number,
  table: Float32Array,
  readVariance: number,
  shotNoise: number,
  fullScale: number,
): number {
  let s = state;
  for (let b = 0; b < bands; b++) {
    const mean = spectrum[b]! * radiance[b]! * gain;
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    // + 0.5 then truncation rounds to the nearest DN (Math.round is several times slower here).
    const v = mean + Math.sqrt(readVariance + shotNoise * mean) * table[s >>> TABLE_SHIFT]! + 0.5;
    data[base + b] = v <= 0.5 ? 0 : v >= fullScale ? fullScale : v | 0;
  }
  return s;
}

/** Picks `round(fraction * width * bands)` distinct elements, half stuck at 0, half saturated. */
export function drawDeadElements(
  width: number,
  bands: number,
  fraction: number,
  fullScale: number,
  random: SimRandom,
): DeadElement[] {
  const total = width * bands;
  const count = Math.min(total, Math.round(fraction * total));
  const chosen = new Set<number>();
  while (chosen.size < count) chosen.add(Math.floor(random.uniform() * total));
  return [...chosen]
    .sort((p, q) => p - q)
    .map((i) => ({ x: Math.floor(i / bands), band: i % bands, dn: random.uniform() < 0.5 ? 0 : fullScale }));
}
