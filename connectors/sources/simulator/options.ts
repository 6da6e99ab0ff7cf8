/**
 * Options of the simulated line-scan camera: their defaults, and the one validation that turns
 * them into a fully resolved set (every field present, wavelengths as a Float32Array).
 */

import { OptionError } from '../../../src/core/options.js';
import type { Demand } from '../demand.js';
import { SIMULATED_SOURCE_DEFAULTS } from '../simulated-source-options.js';
import {
  DEFAULT_DRIFT_LINES_PER_SECOND,
  DRIFT_SCENARIOS,
  type DriftOptions,
  type DriftScenario,
  isDriftScenario,
} from './drift.js';
import {
  linearWavelengths,
  SIM_PRESET_LAYOUTS,
  SIM_PRESETS,
  type SimPreset,
  simWavelengths,
} from './wavelengths.js';

/** What the simulated camera emits: raw digital numbers, or reflectance (DN / white reference). */
export type SimOutput = 'dn' | 'reflectance';

/** Options of `simulatedLineScan` / `createLineScanSimulator`; all optional. */
export interface SimulatedLineScanOptions {
  /** Pixels per line (across the belt). Default 256. */
  width?: number;
  /** Band layout: `default` 61 bands 430-910 nm, `fx10` 224 bands 400-1000, `fx17` 224 bands 900-1700. */
  preset?: SimPreset;
  /** Band count, spread evenly over the preset's range (default: the preset's own count). */
  bands?: number;
  /** Explicit band centres in nm (400-1700 modelled); overrides `preset` and `bands`. */
  wavelengths?: readonly number[] | Float32Array;
  /** Lines per emitted block. Default 64. */
  blockRows?: number;
  /** Lines per frame id: a frame is cut into blocks of `blockRows`. Default `blockRows`. */
  totalRows?: number;
  /** Pace emission with real timers at this line rate; default: as fast as the consumer allows. */
  linesPerSecond?: number;
  /** Without `linesPerSecond`: asked before each block, so that an asynchronous consumer sets the pace. */
  demand?: Demand;
  /** End after this many whole frames (default: never). */
  frames?: number;
  /** End after this many blocks (default: never). */
  maxBlocks?: number;
  /** Fraction of objects that are foreign bodies (stone, husk, plastic, wood). Default 0.02. */
  anomalyRate?: number;
  /** Fraction of the belt covered by objects, 0 to 0.95. Default 0.5. */
  coverage?: number;
  /** Fraction of lentils that are black (the rest brown). Default 0.3. */
  blackLentilShare?: number;
  /** Mean lentil diameter in pixels; every object size scales with it. Default 11. */
  lentilDiameter?: number;
  /** Seed of every random draw; the same seed gives the same data and labels. Default 1. */
  seed?: number;
  /** Read noise standard deviation in DN. Default 2. */
  readNoise?: number;
  /** Shot noise: DN per photo-electron, so the noise variance is `shotNoise * signal`. Default 0.25. */
  shotNoise?: number;
  /** Largest DN (12-bit: 4095). Default 4095. */
  fullScale?: number;
  /** DN of a perfect white at the brightest band in the centre column. Default 0.85 * fullScale. */
  whiteLevel?: number;
  /** Brightness lost at the left and right edges of the line (lens vignetting). Default 0.15. */
  vignetting?: number;
  /** Fraction of sensor elements (column x band) stuck at 0 or at full scale. Default 0. */
  deadPixelFraction?: number;
  /** Relative amplitude of the slow illumination drift (0.02 = ±2 %). Default 0.02. */
  illuminationDrift?: number;
  /** Period of the illumination drift in lines (120000 = 2 min at 1 kHz). Default 120000. */
  illuminationDriftPeriod?: number;
  /** Camera id of the frames. Default `cam0`. */
  cameraId?: string;
  /** `dn` (default) or `reflectance` (DN / the white reference taken at start, still noisy). */
  output?: SimOutput;
  /** A drift scenario playing over the run (default: none). */
  drift?: DriftOptions;
}

/** A drift scenario with its clock resolved. */
export interface ResolvedDrift {
  readonly scenario: DriftScenario;
  /** Lines per simulated second of the scenario's clock. */
  readonly linesPerSecond: number;
}

/** Every option resolved to a value. */
export interface ResolvedSimOptions {
  readonly width: number;
  readonly wavelengths: Float32Array;
  readonly blockRows: number;
  readonly totalRows: number;
  readonly linesPerSecond: number | undefined;
  readonly frames: number | undefined;
  readonly maxBlocks: number | undefined;
  readonly anomalyRate: number;
  readonly coverage: number;
  readonly blackLentilShare: number;
  readonly lentilDiameter: number;
  readonly seed: number;
  readonly readNoise: number;
  readonly shotNoise: number;
  readonly fullScale: number;
  readonly whiteLevel: number;
  readonly vignetting: number;
  readonly deadPixelFraction: number;
  readonly illuminationDrift: number;
  readonly illuminationDriftPeriod: number;
  readonly cameraId: string;
  readonly output: SimOutput;
  readonly drift: ResolvedDrift | undefined;
}

/** The component an {@link OptionError} of the simulator names. */
const SIMULATOR = 'simulator';

function int(field: string, value: number | undefined, fallback: number, min: number, max: number): number {
  const v = value ?? fallback;
  if (!Number.isSafeInteger(v) || v < min || v > max) {
    throw new OptionError(SIMULATOR, field, v, `must be an integer from ${min} to ${max}`);
  }
  return v;
}

function optionalInt(field: string, value: number | undefined, min: number): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isSafeInteger(value) || value < min) {
    throw new OptionError(SIMULATOR, field, value, `must be an integer >= ${min}`);
  }
  return value;
}

function real(field: string, value: number | undefined, fallback: number, min: number, max: number): number {
  const v = value ?? fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) {
    throw new OptionError(SIMULATOR, field, v, `must be a number from ${min} to ${max}`);
  }
  return v;
}

function resolveDrift(
  drift: DriftOptions | undefined,
  linesPerSecond: number | undefined,
): ResolvedDrift | undefined {
  if (drift === undefined) return undefined;
  if (!isDriftScenario(drift.scenario)) {
    throw new OptionError(
      SIMULATOR,
      'drift.scenario',
      drift.scenario,
      `must be one of ${DRIFT_SCENARIOS.join(', ')}`,
    );
  }
  const clock = drift.linesPerSecond ?? linesPerSecond ?? DEFAULT_DRIFT_LINES_PER_SECOND;
  if (!(Number.isFinite(clock) && clock > 0)) {
    throw new OptionError(SIMULATOR, 'drift.linesPerSecond', clock, 'must be a positive number');
  }
  return { scenario: drift.scenario, linesPerSecond: clock };
}

function resolveWavelengths(options: SimulatedLineScanOptions): Float32Array {
  if (options.wavelengths !== undefined) {
    const w = Float32Array.from(options.wavelengths);
    if (w.length === 0 || w.length > 4096) {
      throw new OptionError(SIMULATOR, 'wavelengths', options.wavelengths, 'must hold 1 to 4096 values');
    }
    for (let i = 0; i < w.length; i++) {
      const v = w[i]!;
      if (!Number.isFinite(v) || v < 300 || v > 2600) {
        throw new OptionError(
          SIMULATOR,
          `wavelengths[${i}]`,
          v,
          'must be a wavelength in nm from 300 to 2600',
        );
      }
    }
    return w;
  }
  const preset = options.preset ?? SIMULATED_SOURCE_DEFAULTS.preset;
  if (!SIM_PRESETS.includes(preset)) {
    throw new OptionError(SIMULATOR, 'preset', preset, `must be one of ${SIM_PRESETS.join(', ')}`);
  }
  if (options.bands === undefined) return simWavelengths(preset);
  const bands = int('bands', options.bands, 0, 1, 4096);
  const { min, max } = SIM_PRESET_LAYOUTS[preset];
  return linearWavelengths(bands, min, max);
}

/**
 * Fills defaults and checks every option.
 *
 * @throws {@link OptionError} naming the first bad option
 */
export function resolveSimOptions(options: SimulatedLineScanOptions = {}): ResolvedSimOptions {
  const width = int('width', options.width, SIMULATED_SOURCE_DEFAULTS.width, 1, 1 << 16);
  const wavelengths = resolveWavelengths(options);
  const blockRows = int('blockRows', options.blockRows, SIMULATED_SOURCE_DEFAULTS.blockRows, 1, 1 << 16);
  const totalRows = int('totalRows', options.totalRows, blockRows, 1, 1 << 24);
  const linesPerSecond = options.linesPerSecond;
  if (linesPerSecond !== undefined && !(Number.isFinite(linesPerSecond) && linesPerSecond > 0)) {
    throw new OptionError(SIMULATOR, 'linesPerSecond', linesPerSecond, 'must be a positive number');
  }
  const fullScale = real('fullScale', options.fullScale, 4095, 1, 1e9);
  const cameraId = options.cameraId ?? SIMULATED_SOURCE_DEFAULTS.cameraId;
  if (typeof cameraId !== 'string' || cameraId.length === 0 || /[\s/#+*>.]/.test(cameraId)) {
    throw new OptionError(
      SIMULATOR,
      'cameraId',
      cameraId,
      'must be non-empty, without whitespace or / # + * > .',
    );
  }
  const output = options.output ?? SIMULATED_SOURCE_DEFAULTS.output;
  if (output !== 'dn' && output !== 'reflectance') {
    throw new OptionError(SIMULATOR, 'output', output, 'must be "dn" or "reflectance"');
  }
  return {
    width,
    wavelengths,
    blockRows,
    totalRows,
    linesPerSecond,
    frames: optionalInt('frames', options.frames, 0),
    maxBlocks: optionalInt('maxBlocks', options.maxBlocks, 0),
    anomalyRate: real('anomalyRate', options.anomalyRate, SIMULATED_SOURCE_DEFAULTS.anomalyRate, 0, 1),
    coverage: real('coverage', options.coverage, SIMULATED_SOURCE_DEFAULTS.coverage, 0, 0.95),
    blackLentilShare: real('blackLentilShare', options.blackLentilShare, 0.3, 0, 1),
    lentilDiameter: real('lentilDiameter', options.lentilDiameter, 11, 1, 1000),
    seed: int('seed', options.seed, SIMULATED_SOURCE_DEFAULTS.seed, 0, 2 ** 32 - 1),
    readNoise: real('readNoise', options.readNoise, 2, 0, 1e6),
    shotNoise: real('shotNoise', options.shotNoise, 0.25, 0, 1e6),
    fullScale,
    whiteLevel: real('whiteLevel', options.whiteLevel, 0.85 * fullScale, 1e-6, 1e9),
    vignetting: real('vignetting', options.vignetting, 0.15, 0, 0.9),
    deadPixelFraction: real('deadPixelFraction', options.deadPixelFraction, 0, 0, 1),
    illuminationDrift: real('illuminationDrift', options.illuminationDrift, 0.02, 0, 0.5),
    illuminationDriftPeriod: real(
      'illuminationDriftPeriod',
      options.illuminationDriftPeriod,
      120_000,
      1,
      1e12,
    ),
    cameraId,
    output,
    drift: resolveDrift(options.drift, linesPerSecond),
  };
}
