/**
 * The eject planner (docs/ejectors.md): turns the blobs of a decision into air-jet commands, the
 * valves that cover each blob across the belt and the moment its leading edge reaches the valve
 * bar. Pure: the clock is an argument, and nothing is sent from here (the service sends the
 * `ejects` and counts the `late` ones in `cubestream_ejects_late_total`).
 */

import type { DecidedFrame, Decision } from '../src/core/decision.js';
import type { EjectCommand } from '../src/core/eject.js';
import { type EjectorOptions, type ResolvedEjectorOptions, resolveEjectorOptions } from './eject-options.js';

export {
  DEFAULT_VALVE_OPEN_MS,
  type EjectorOptions,
  ejectorOptionsSchema,
  FIRE_AT_UNITS,
  type FireAtUnit,
  MAX_VALVE_COUNT,
  type ResolvedEjectorOptions,
  resolveEjectorOptions,
} from './eject-options.js';

/**
 * Slack, in valve widths, allowed on a blob edge that falls on a valve edge: a blob that ends
 * exactly where a valve starts does not get that valve, despite rounding in `x × pitch`.
 */
const EDGE_SLACK = 1e-9;

export type { EjectCommand } from '../src/core/eject.js';

/** What {@link planEjects} makes of one decision. */
export interface EjectPlan {
  /** Commands to send, in blob order. */
  readonly ejects: EjectCommand[];
  /** Commands whose budget is below `minBudgetMs` (by default: whose `fireAt` has passed): count them, do not send them. */
  readonly late: EjectCommand[];
  /** Blob ids of blobs large enough to eject that no valve reaches (entirely beside the valve bar). */
  readonly unreachable: string[];
}

/**
 * What the planner needs of a decided block: its decision plus the rows that place the decision's
 * `capturedAt` (a {@link DecidedFrame} is one). A bare {@link Decision} is not enough: its
 * `capturedAt` is the capture time of the block's last row, and it does not say how many rows the
 * block has.
 */
export interface EjectPlanInput {
  readonly decision: Pick<
    Decision,
    'cameraId' | 'frameId' | 'rowOffset' | 'capturedAt' | 'anomalous' | 'blobs'
  >;
  /** Rows of the decided block. */
  readonly height: number;
  /** Rows of the whole frame the block belongs to (numbers the rows across frames for encoder lines). */
  readonly totalRows: number;
  /**
   * The whole-frame row whose capture time `decision.capturedAt` is. Default `rowOffset + height
   * - 1`: every source stamps a block with its last row (the simulated and GenICam cameras do).
   * Give it for a frame assembled from blocks (`decide.assemble: 'frame'`), whose `capturedAt` is
   * its first block's: `blockRows - 1`.
   */
  readonly capturedRow?: number;
}

/** The belt's motion as the planner uses it, derived from the settings. */
export interface EjectKinematics {
  /** Belt speed, m/s: `beltSpeedMetresPerSecond`, or `lineRateHz × encoderLinesPerRow / linesPerMetre`. */
  readonly speedMetresPerSecond: number;
  /** Time from one camera row to the next, ms: `1000 / lineRateHz`. */
  readonly rowMs: number;
  /** Time a point of the belt takes from the camera line to the valve bar, ms: `1000 × distance / speed`. */
  readonly travelMs: number;
  /** The same in encoder lines, `round(distance × linesPerMetre)`; undefined without an encoder. */
  readonly travelEncoderLines: number | undefined;
}

/**
 * The belt's speed and the camera-to-valve travel of resolved settings.
 *
 * @example
 * ```ts
 * const k = ejectKinematics(resolveEjectorOptions({
 *   lineRateHz: 2000, linesPerMetre: 1000, distanceToValvesMetres: 0.25,
 *   valveCount: 32, valvePitchMetres: 0.01, pixelPitchMetres: 0.001,
 * }));
 * k.speedMetresPerSecond; // 2
 * k.travelMs; // 125
 * k.travelEncoderLines; // 250
 * ```
 */
export function ejectKinematics(options: ResolvedEjectorOptions): EjectKinematics {
  const speed =
    options.beltSpeedMetresPerSecond ??
    (options.lineRateHz * options.encoderLinesPerRow) / (options.linesPerMetre as number);
  return {
    speedMetresPerSecond: speed,
    rowMs: 1000 / options.lineRateHz,
    travelMs: (1000 * options.distanceToValvesMetres) / speed,
    travelEncoderLines:
      options.linesPerMetre === undefined
        ? undefined
        : Math.round(options.distanceToValvesMetres * options.linesPerMetre),
  };
}

/**
 * The valves whose span across the belt overlaps columns `[x, x + width)` (docs/ejectors.md §1),
 * ascending; empty when none does. A blob edge exactly on a valve edge does not take in the
 * neighbouring valve.
 *
 * @example
 * ```ts
 * // 1 mm pixels, 10 mm valves from the edge of column 0: columns 5..14 span 5-15 mm.
 * valvesForColumns(5, 10, { pixelPitchMetres: 0.001, valvePitchMetres: 0.01, valveOffsetMetres: 0, valveCount: 8 }); // [0, 1]
 * ```
 */
export function valvesForColumns(
  x: number,
  width: number,
  geometry: Pick<
    ResolvedEjectorOptions,
    'pixelPitchMetres' | 'valvePitchMetres' | 'valveOffsetMetres' | 'valveCount'
  >,
): number[] {
  const { pixelPitchMetres, valvePitchMetres, valveOffsetMetres, valveCount } = geometry;
  if (width <= 0) return [];
  const start = (x * pixelPitchMetres - valveOffsetMetres) / valvePitchMetres;
  const end = ((x + width) * pixelPitchMetres - valveOffsetMetres) / valvePitchMetres;
  const first = Math.max(0, Math.floor(start + EDGE_SLACK));
  const last = Math.min(valveCount - 1, Math.ceil(end - EDGE_SLACK) - 1);
  const valves: number[] = [];
  for (let v = first; v <= last; v++) valves.push(v);
  return valves;
}

/**
 * Plans the ejects of one decided block (docs/ejectors.md). For each blob of an anomalous
 * decision with `area >= minBlobArea` (smaller ones, and every blob of a decision that is not
 * anomalous, are skipped):
 *
 * - `valves`: {@link valvesForColumns} of the blob's columns `[x, x + w)`; a blob no valve reaches
 *   is listed in `unreachable` instead.
 * - the leading edge is the blob's first row `y` (whole-frame rows): a line-scan camera sees the
 *   part of an object that travels ahead first. Row `y` was captured at
 *   `t(y) = capturedAt - (capturedRow - y) × 1000 / lineRateHz`, and reaches the valve bar at
 *   `t(y) + travelMs` ({@link ejectKinematics}). Nothing else is added or taken off (no half
 *   pulse, no valve response time: the PLC knows its valves).
 * - `fireAt` in `epoch-ms`: `t(y) + travelMs`. In `encoder-line`: `(frameId × totalRows + y) ×
 *   encoderLinesPerRow + travelEncoderLines`, the encoder line counted from the camera's row 0 of
 *   frame 0 (the PLC adds the encoder count it latched at the camera's first line; lines the
 *   camera lost, or frame ids restarting, shift it).
 * - `openMs`: `max(valveOpenMs, h × 1000 / lineRateHz)`, so a long blob is blown while it passes.
 * - `budgetMs`: `t(y) + travelMs - now`. The command is `late` when `budgetMs < minBudgetMs`
 *   (by default: when its leading edge has already passed the valves).
 *
 * @param input - the decided block (a {@link DecidedFrame}, or {@link EjectPlanInput})
 * @param options - resolved settings ({@link resolveEjectorOptions})
 * @param now - the current time, epoch ms
 * @example
 * ```ts
 * const ejector = resolveEjectorOptions({
 *   lineRateHz: 1000, beltSpeedMetresPerSecond: 2, distanceToValvesMetres: 0.3,
 *   valveCount: 64, valvePitchMetres: 0.0125, pixelPitchMetres: 0.0008,
 * });
 * const { ejects, late } = planEjects(decided, ejector, Date.now());
 * for (const eject of ejects) console.log(eject.blobId, eject.valves, eject.fireAt);
 * if (late.length > 0) console.warn(`${late.length} ejects too late`);
 * ```
 */
export function planEjects(input: EjectPlanInput, options: ResolvedEjectorOptions, now: number): EjectPlan {
  const plan: EjectPlan = { ejects: [], late: [], unreachable: [] };
  const { decision, height, totalRows } = input;
  if (!decision.anomalous || decision.blobs.length === 0) return plan;
  const kinematics = ejectKinematics(options);
  const { rowMs, travelMs, travelEncoderLines } = kinematics;
  const capturedRow = input.capturedRow ?? decision.rowOffset + height - 1;
  decision.blobs.forEach((blob, index) => {
    if (blob.area < options.minBlobArea) return;
    const blobId = `${decision.frameId}:${decision.rowOffset}:${index}`;
    const valves = valvesForColumns(blob.x, blob.w, options);
    if (valves.length === 0) {
      plan.unreachable.push(blobId);
      return;
    }
    const arrival = decision.capturedAt - (capturedRow - blob.y) * rowMs + travelMs;
    const fireAt =
      options.fireAtUnit === 'encoder-line'
        ? (decision.frameId * totalRows + blob.y) * options.encoderLinesPerRow + (travelEncoderLines ?? 0)
        : arrival;
    const budgetMs = arrival - now;
    const command: EjectCommand = {
      cameraId: decision.cameraId,
      frameId: decision.frameId,
      blobId,
      valves,
      fireAt,
      openMs: Math.max(options.valveOpenMs, blob.h * rowMs),
      budgetMs,
    };
    (budgetMs < options.minBudgetMs ? plan.late : plan.ejects).push(command);
  });
  return plan;
}

/**
 * A planner bound to its settings, checked once: what the service calls for each decided block
 * as it comes out of the pipeline.
 *
 * @throws `OptionError` at build time for a bad setting
 * @example
 * ```ts
 * const plan = createEjectPlanner({
 *   lineRateHz: 1000, beltSpeedMetresPerSecond: 2, distanceToValvesMetres: 0.3,
 *   valveCount: 64, valvePitchMetres: 0.0125, pixelPitchMetres: 0.0008,
 * });
 * const { ejects, late } = plan(decided); // now = Date.now()
 * ```
 */
export function createEjectPlanner(
  options: EjectorOptions,
  clock: () => number = Date.now,
): (input: EjectPlanInput, now?: number) => EjectPlan {
  const resolved = resolveEjectorOptions(options);
  return (input, now = clock()) => planEjects(input, resolved, now);
}
