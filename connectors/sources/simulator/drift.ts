/**
 * Drift scenarios of the simulated belt: what changes over an hour of production (the lamp, the
 * wavelength calibration, the product, the sensor, the dirt on the belt), as functions of the
 * belt's clock. Seeded through the simulator's own random streams, so a scenario replays exactly.
 * docs/evaluation.md §4 lists them with the figures measured on them.
 */

/** The drift scenarios, in the order the drift bench runs them. */
export const DRIFT_SCENARIOS = [
  'clean',
  'lamp-ageing',
  'lamp-step',
  'wavelength-shift',
  'product-change',
  'dead-pixels',
  'burst',
  'dirty-belt',
] as const;

/** One drift scenario (see {@link DRIFT_SCENARIOS} and {@link driftStateAt}). */
export type DriftScenario = (typeof DRIFT_SCENARIOS)[number];

/** Lines per simulated second of the drift clock when neither it nor the pacing is given: the demo camera's rate. */
export const DEFAULT_DRIFT_LINES_PER_SECOND = 640;

/** When a step, a product change or a burst happens: half way through the hour (seconds). */
export const DRIFT_ONSET_SECONDS = 1800;

/** The span of the ramps (lamp ageing, wavelength shift, dying pixels): one hour (seconds). */
export const DRIFT_RAMP_SECONDS = 3600;

/** Length of the foreign-body burst (seconds). */
export const BURST_SECONDS = 60;

/** The scenario's magnitudes, one home for each (docs/evaluation.md §4 cites them). */
export const DRIFT_MAGNITUDES = {
  /** Lamp ageing: light lost over the ramp (10 %), and the blue falling faster (tilt -2 %). */
  ageingLoss: 0.1,
  ageingTilt: -0.02,
  /** Lamp step: light gained at once (15 %), slightly bluer (tilt +2 %). */
  stepGain: 0.15,
  stepTilt: 0.02,
  /** Wavelength shift over the ramp (nm): every band's true centre moves up by this much. */
  shiftNm: 2,
  /** Product change: the share of black lentils after the onset (0.3 before, the simulator's default). */
  blackLentilShareAfter: 0.8,
  /** Dying pixels: share of sensor elements (column x band) dead by the end of the ramp. */
  deadFraction: 0.001,
  /** Burst: share of objects that are foreign bodies during the burst (about 10 % of the belt's area at coverage 0.5). */
  burstAnomalyRate: 0.2,
  /** Dirty belt: share of objects that are foreign bodies throughout. */
  dirtyAnomalyRate: 0.05,
} as const;

/** Resolution of the wavelength shift (nm). */
export const SHIFT_RESOLUTION_NM = 0.05;

/** A drift scenario as the simulator takes it. */
export interface DriftOptions {
  /** The scenario. */
  readonly scenario: DriftScenario;
  /**
   * Lines per simulated second of the scenario's clock (the belt's time is line / this). Default:
   * the source's `linesPerSecond`, else {@link DEFAULT_DRIFT_LINES_PER_SECOND}. The drift bench
   * sets one block per second.
   */
  readonly linesPerSecond?: number;
}

/** What the scenario has changed at a moment of belt time. */
export interface DriftState {
  /** Light level relative to the white reference's (1 = unchanged). */
  readonly lamp: number;
  /** Colour tilt of the lamp: relative change from the shortest to the longest band, ±. */
  readonly lampTilt: number;
  /** Shift of every band's true centre (nm). */
  readonly shiftNm: number;
  /** Share of objects that are foreign bodies (undefined: the simulator's `anomalyRate`). */
  readonly anomalyRate?: number;
  /** Share of lentils that are black (undefined: the simulator's `blackLentilShare`). */
  readonly blackLentilShare?: number;
  /** Share of sensor elements dead by now, on top of the simulator's `deadPixelFraction`. */
  readonly deadFraction: number;
}

const STEADY: DriftState = { lamp: 1, lampTilt: 0, shiftNm: 0, deadFraction: 0 };

/**
 * The scenario's state `seconds` into the belt's run.
 *
 * @example
 * ```ts
 * driftStateAt('lamp-step', 1800).lamp; // 1.15
 * ```
 */
export function driftStateAt(scenario: DriftScenario, seconds: number): DriftState {
  const m = DRIFT_MAGNITUDES;
  const ramp = Math.min(1, Math.max(0, seconds / DRIFT_RAMP_SECONDS));
  const after = seconds >= DRIFT_ONSET_SECONDS;
  switch (scenario) {
    case 'clean':
      return STEADY;
    case 'lamp-ageing':
      return { ...STEADY, lamp: 1 - m.ageingLoss * ramp, lampTilt: m.ageingTilt * ramp };
    case 'lamp-step':
      return after ? { ...STEADY, lamp: 1 + m.stepGain, lampTilt: m.stepTilt } : STEADY;
    case 'wavelength-shift':
      // In steps of SHIFT_RESOLUTION_NM, so that spectra are recomputed only when the shift moves.
      return {
        ...STEADY,
        shiftNm: Math.round((m.shiftNm * ramp) / SHIFT_RESOLUTION_NM) * SHIFT_RESOLUTION_NM,
      };
    case 'product-change':
      return after ? { ...STEADY, blackLentilShare: m.blackLentilShareAfter } : STEADY;
    case 'dead-pixels':
      return { ...STEADY, deadFraction: m.deadFraction * ramp };
    case 'burst':
      return after && seconds < DRIFT_ONSET_SECONDS + BURST_SECONDS
        ? { ...STEADY, anomalyRate: m.burstAnomalyRate }
        : STEADY;
    case 'dirty-belt':
      return { ...STEADY, anomalyRate: m.dirtyAnomalyRate };
  }
}

/** Whether `value` names a drift scenario. */
export function isDriftScenario(value: unknown): value is DriftScenario {
  return typeof value === 'string' && (DRIFT_SCENARIOS as readonly string[]).includes(value);
}
