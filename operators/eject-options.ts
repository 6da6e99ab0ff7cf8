/**
 * The settings of the eject planner (`planEjects`, docs/ejectors.md) as one zod schema: the one
 * home of their defaults. It is the `ejector:` section a run configuration can hold: where the
 * valve bar sits relative to the camera line, how the image maps onto the valves, and how rows
 * map to time or to encoder lines.
 *
 * Two ways to know how fast the belt moves, exactly one of them:
 * - `beltSpeedMetresPerSecond` (a free-running camera at `lineRateHz` over a belt at a known
 *   speed): `fireAt` can only be in epoch ms;
 * - `linesPerMetre` (the camera is line-triggered by the belt's encoder, one row every
 *   `encoderLinesPerRow` encoder lines): the speed is `lineRateHz × encoderLinesPerRow /
 *   linesPerMetre`, and `fireAt` can be in epoch ms or in encoder lines.
 *
 * `lineRateHz` is needed in both: it places each row of a block in time (a block's `capturedAt`
 * is the time of its last row) and, with an encoder, it gives the time estimate behind the late
 * check and the latency budget.
 */
import { z } from 'zod';
import { OptionError, valueAtPath } from '../src/core/options.js';
import { OPERATOR } from './internal/errors.js';
import { DEFAULT_MIN_AREA } from './pipeline-options.js';

const Positive = z.number().positive().finite();
const PositiveInt = z.number().int().positive();

/** Largest `valveCount` accepted: more valves than any valve bar has. */
export const MAX_VALVE_COUNT = 4096;

/** Default shortest valve pulse, ms ({@link ejectorOptionsSchema} `valveOpenMs`). */
export const DEFAULT_VALVE_OPEN_MS = 10;

/** What `fireAt` of an eject command counts in: epoch milliseconds or encoder lines. */
export const FIRE_AT_UNITS = ['epoch-ms', 'encoder-line'] as const;

/** What `fireAt` counts in (see {@link FIRE_AT_UNITS}). */
export type FireAtUnit = (typeof FIRE_AT_UNITS)[number];

/**
 * zod schema of the `ejector` settings (strict: unknown keys are refused). Lengths are in metres,
 * times in milliseconds, rates per second. Required: `lineRateHz`, exactly one of
 * `beltSpeedMetresPerSecond` / `linesPerMetre`, `distanceToValvesMetres`, `valveCount`,
 * `valvePitchMetres`, `pixelPitchMetres`; everything else has a default.
 *
 * Geometry across the belt (docs/ejectors.md §1): one axis, in metres, running in the direction
 * of increasing pixel column, with 0 at the left edge of column 0. Column `c` covers
 * `[c, c + 1) × pixelPitchMetres`; valve `i` covers `valveOffsetMetres + [i, i + 1) ×
 * valvePitchMetres`. Valve indices increase with the column index.
 */
export const ejectorOptionsSchema = z
  .strictObject({
    /** Camera lines (rows) per second, > 0. Required in both modes (see the module comment). */
    lineRateHz: Positive.describe('Camera lines (rows) per second'),
    /**
     * Belt speed, m/s, > 0, for a free-running camera. Exactly one of this and `linesPerMetre`.
     * `fireAtUnit` must then be `epoch-ms`.
     */
    beltSpeedMetresPerSecond: Positive.optional().describe('Belt speed (m/s), free-running camera'),
    /**
     * Encoder lines per metre of belt travel, > 0, for a camera triggered by the belt's encoder.
     * Exactly one of this and `beltSpeedMetresPerSecond`; required for `fireAtUnit: encoder-line`.
     */
    linesPerMetre: Positive.optional().describe('Encoder lines per metre of belt travel'),
    /** Encoder lines between two camera rows (the trigger divider), integer >= 1. Default 1. */
    encoderLinesPerRow: PositiveInt.default(1).describe('Encoder lines per camera row'),
    /** Along the belt, from the camera's line of sight to the valve bar, m, > 0. */
    distanceToValvesMetres: Positive.describe('Camera line to valve bar (m)'),
    /** Valves on the bar, integer 1 to {@link MAX_VALVE_COUNT}. */
    valveCount: PositiveInt.max(MAX_VALVE_COUNT).describe('Valves on the bar'),
    /** Width of belt one valve covers (centre to centre), m, > 0. */
    valvePitchMetres: Positive.describe('Valve pitch across the belt (m)'),
    /**
     * Across the belt, from the left edge of pixel column 0 to the left edge of valve 0, m
     * (negative: valve 0 starts before column 0). Default 0.
     */
    valveOffsetMetres: z.number().finite().default(0).describe('Column 0 edge to valve 0 edge (m)'),
    /** Width of belt one pixel column sees at the belt surface, m, > 0. */
    pixelPitchMetres: Positive.describe('Belt width per pixel column (m)'),
    /**
     * Shortest valve pulse, ms, > 0; a blob that takes longer to pass the bar keeps its valves
     * open while it passes. Default {@link DEFAULT_VALVE_OPEN_MS}.
     */
    valveOpenMs: Positive.default(DEFAULT_VALVE_OPEN_MS).describe('Shortest valve pulse (ms)'),
    /**
     * Smallest blob that gets an eject, pixels, integer >= 1. Default {@link DEFAULT_MIN_AREA}
     * (the same as the verdict's `decide.minArea`).
     */
    minBlobArea: PositiveInt.default(DEFAULT_MIN_AREA).describe('Smallest blob ejected (pixels)'),
    /** `epoch-ms` (default) or `encoder-line` (needs `linesPerMetre`). */
    fireAtUnit: z.enum(FIRE_AT_UNITS).default('epoch-ms').describe('Unit of fireAt'),
    /**
     * Latency budget an eject must still have when planned, ms, >= 0: one with less is late (not
     * sent, counted). Set it to what delivery takes (broker, PLC cycle, valve response). Default
     * 0: late only once `fireAt` has passed.
     */
    minBudgetMs: z.number().finite().nonnegative().default(0).describe('Least budget left to send (ms)'),
  })
  .superRefine((o, ctx) => {
    const speed = o.beltSpeedMetresPerSecond !== undefined;
    const encoder = o.linesPerMetre !== undefined;
    if (speed === encoder) {
      ctx.addIssue({
        code: 'custom',
        path: [speed ? 'linesPerMetre' : 'beltSpeedMetresPerSecond'],
        input: speed ? o.linesPerMetre : o.beltSpeedMetresPerSecond,
        message: speed
          ? 'give either beltSpeedMetresPerSecond (free-running camera) or linesPerMetre (encoder-triggered camera), not both'
          : 'give beltSpeedMetresPerSecond (free-running camera) or linesPerMetre (encoder-triggered camera)',
      });
    }
    if (o.fireAtUnit === 'encoder-line' && !encoder) {
      ctx.addIssue({
        code: 'custom',
        path: ['fireAtUnit'],
        input: o.fireAtUnit,
        message: 'encoder-line needs linesPerMetre (an encoder-triggered camera)',
      });
    }
  })
  .meta({ title: 'cubestream ejector', description: 'Valve bar geometry and timing of eject commands' });

/** The `ejector` settings as given: defaulted fields optional. */
export type EjectorOptions = z.input<typeof ejectorOptionsSchema>;
/** The `ejector` settings with every default applied (what `planEjects` takes). */
export type ResolvedEjectorOptions = z.output<typeof ejectorOptionsSchema>;

/**
 * The settings with every default applied, checked as a whole.
 *
 * @throws {@link OptionError} naming the first bad setting, e.g. `operator option
 *   ejector.valveCount = 0: ...` or the `fireAtUnit` that needs `linesPerMetre`
 * @example
 * ```ts
 * const ejector = resolveEjectorOptions({
 *   lineRateHz: 1000,
 *   beltSpeedMetresPerSecond: 2,
 *   distanceToValvesMetres: 0.3,
 *   valveCount: 64,
 *   valvePitchMetres: 0.0125,
 *   pixelPitchMetres: 0.0008,
 * });
 * ejector.valveOpenMs; // 10
 * ```
 */
export function resolveEjectorOptions(options: EjectorOptions): ResolvedEjectorOptions {
  const result = ejectorOptionsSchema.safeParse(options);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const path = issue?.path ?? [];
  const value = valueAtPath(options, path);
  throw new OptionError(
    OPERATOR,
    ['ejector', ...path.map(String)].join('.'),
    value,
    issue?.message ?? 'invalid',
  );
}
