/**
 * The demo's live one-line summary: frames and rate, anomalous decisions, τ, p99 latency, drops.
 */
import type { TruthFigures } from '../../core/truth-tally.js';
import type { StatsSnapshot } from './service-stats.js';

function formatThreshold(thresholds: ReadonlyMap<string, number>): string {
  const values = [...thresholds.values()];
  if (values.length === 0) return '-';
  if (values.length === 1) return (values[0] as number).toPrecision(3);
  return `${Math.min(...values).toPrecision(3)}..${Math.max(...values).toPrecision(3)}`;
}

/**
 * One summary line (no newline) from two snapshots `seconds` apart.
 *
 * @example
 * ```ts
 * import { ServiceStats } from './service-stats.js';
 * const stats = new ServiceStats();
 * const before = stats.snapshot();
 * // ... two seconds of decisions ...
 * summaryLine(before, stats.snapshot(), 2);
 * // 'frames 640 (15.9/s) · anomalous 37 · τ 4.12 · p99 38 ms · drops 0 · rejected 0'
 * // with a simulated camera, also: ' · false alarms 0.00 % of 420 clean · recall 98.7 % of 152 foreign bodies'
 * ```
 */
export function summaryLine(
  previous: StatsSnapshot | undefined,
  current: StatsSnapshot,
  seconds: number,
): string {
  const rate = seconds > 0 ? (current.frames - (previous?.frames ?? 0)) / seconds : 0;
  const p99 = current.latencyP99 === undefined ? '-' : `${Math.round(current.latencyP99 * 1000)} ms`;
  return [
    `frames ${current.frames} (${rate.toFixed(1)}/s)`,
    `anomalous ${current.anomalous}`,
    `τ ${formatThreshold(current.thresholds)}`,
    `p99 ${p99}`,
    `drops ${current.dropped}`,
    `rejected ${current.rejected}`,
    ...(current.truth === undefined ? [] : truthParts(current.truth)),
  ].join(' · ');
}

/** `false alarms 0.00 % of 812 clean` and `recall 98.7 % of 152 foreign bodies`, when the source knows the truth. */
function truthParts(truth: TruthFigures): string[] {
  const percent = (value: number | null, digits: number): string =>
    value === null ? '-' : `${(100 * value).toFixed(digits)} %`;
  return [
    `false alarms ${percent(truth.falseAlarmRate, 2)} of ${truth.cleanBlocks} clean`,
    `recall ${percent(truth.recall, 1)} of ${truth.foreignBodies} foreign bodies`,
  ];
}
