import { percentile } from './block-runner.js';
import type { BenchEngine } from './pipelines.js';

/**
 * A camera scenario's line rates (`genicam`): camera frames are lines, received by the source
 * and decided by the pipeline, against Aravis's own client at the same settings in the same run.
 */
export interface CameraLineFigures {
  /** Camera frames (lines) the source received per second. */
  readonly framesPerSecond: number;
  /** Lines decided per second (decided blocks times their lines). */
  readonly decidedFramesPerSecond: number;
  /** Frames per second `arv-camera-test-0.8` received from the same camera at the same settings. */
  readonly aravisFramesPerSecond: number;
  /** `framesPerSecond / aravisFramesPerSecond` (target >= 0.95). */
  readonly ratio: number;
  /** Lines the source lost (incomplete buffers, lines dropped with the ring full, ids never received) over the whole run (target 0 without packet loss). */
  readonly incomplete: number;
  /** Of {@link CameraLineFigures.incomplete}: block ids never received. */
  readonly gapLines: number;
  /** Buffers `arv-camera-test-0.8` got incomplete plus the frames it never saw. */
  readonly aravisIncomplete: number;
  /** p99 of decision time minus the block's `capturedAt` (its last line's camera timestamp), ms. */
  readonly p99CaptureToDecisionMs: number;
  /** Blocks the pipeline's validation refused (0 unless the model does not fit the camera). */
  readonly rejected: number;
  /** CPU of the cubestream process during the window (all threads), in cores. */
  readonly cpuCores: number;
  /** `GevSCPSPacketSize` both sides streamed at (bytes); null: the camera's own. */
  readonly packetSize: number | null;
  /** Scoring worker threads of the cubestream side. */
  readonly scorerWorkers: number;
}

/** What one scenario reports for one engine. */
export interface ScenarioResult {
  readonly name: string;
  readonly engine: BenchEngine;
  /** Pixels scored and decided per second, end to end. */
  readonly mpxPerSecond: number;
  readonly blocksPerSecond: number;
  /** Latency per block, source timestamp to decision (ms). */
  readonly p50BlockMs: number;
  readonly p99BlockMs: number;
  /** Largest resident set size seen during the scenario (MiB; the process's, so it includes earlier scenarios' heap). */
  readonly peakRssMb: number;
  /** Blocks dropped by the bounded queue (paced scenarios; 0 otherwise). */
  readonly dropped: number;
  /** Blocks decided. */
  readonly blocks: number;
  /** Mean ms per block in each stage. */
  readonly stageMs: Record<string, number>;
  /** Share of pixels scored from early rows, before their block was complete (line-scan with early rows only). */
  readonly earlyShare?: number;
  /** A camera scenario's line rates (`genicam` only). */
  readonly camera?: CameraLineFigures;
}

/** Rounds a figure for the report (3 significant decimals at most). */
export function round(value: number, digits = 3): number {
  if (!Number.isFinite(value)) return value;
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

/** One human-readable line per scenario. */
export function formatResult(r: ScenarioResult): string {
  const stages = Object.entries(r.stageMs)
    .map(([name, ms]) => `${name} ${ms.toFixed(1)}`)
    .join(', ');
  return (
    `${r.name.padEnd(5)} ${r.engine.padEnd(5)} ${r.mpxPerSecond.toFixed(3).padStart(7)} Mpx/s ` +
    `${r.blocksPerSecond.toFixed(2).padStart(6)} blocks/s  p50 ${r.p50BlockMs.toFixed(1)} ms  p99 ${r.p99BlockMs.toFixed(1)} ms  ` +
    `peak RSS ${r.peakRssMb.toFixed(0)} MiB  dropped ${r.dropped}/${r.blocks + r.dropped}` +
    `${r.earlyShare === undefined ? '' : `  scored ahead ${(100 * r.earlyShare).toFixed(0)}%`}\n      ms per block: ${stages}` +
    (r.camera === undefined ? '' : `\n      ${formatCamera(r.camera)}`)
  );
}

function formatCamera(c: CameraLineFigures): string {
  return (
    `lines/s received ${c.framesPerSecond.toFixed(1)}, decided ${c.decidedFramesPerSecond.toFixed(1)}, ` +
    `arv-camera-test ${c.aravisFramesPerSecond.toFixed(1)} (ratio ${c.ratio.toFixed(3)}); ` +
    `lost lines ${c.incomplete} (gaps ${c.gapLines}; arv-camera-test ${c.aravisIncomplete}); ` +
    `capture -> decision p99 ${c.p99CaptureToDecisionMs.toFixed(1)} ms; rejected ${c.rejected}; CPU ${c.cpuCores.toFixed(2)} cores; ` +
    `packets ${c.packetSize ?? 'camera default'} B, ${c.scorerWorkers} scoring worker(s)`
  );
}

/** What a scenario measured, before it is summarised into a {@link ScenarioResult}. */
export interface ScenarioMeasurements {
  readonly name: string;
  readonly engine: BenchEngine;
  /** Pixels decided. */
  readonly pixels: number;
  /** Wall-clock seconds of the measured part. */
  readonly seconds: number;
  /** Latency of each decided block (ms). */
  readonly latencies: readonly number[];
  readonly peakRssMb: number;
  readonly dropped: number;
  /** Total ms per stage at the end, and at the end of the warm-up (subtracted). */
  readonly stageTotals: Readonly<Record<string, number>>;
  readonly warmStageTotals: Readonly<Record<string, number>>;
  /** Share of pixels scored from early rows (when the scenario fed them). */
  readonly earlyShare?: number;
}

/** Summarises a scenario's measurements: rates, latency percentiles, mean ms per block and stage. */
export function scenarioResult(m: ScenarioMeasurements): ScenarioResult {
  const blocks = m.latencies.length;
  const stageMs = Object.fromEntries(
    Object.entries(m.stageTotals).map(([name, total]) => [
      name,
      round((total - (m.warmStageTotals[name] ?? 0)) / blocks),
    ]),
  );
  return {
    name: m.name,
    engine: m.engine,
    mpxPerSecond: round(m.pixels / m.seconds / 1e6),
    blocksPerSecond: round(blocks / m.seconds),
    p50BlockMs: round(percentile(m.latencies, 0.5), 2),
    p99BlockMs: round(percentile(m.latencies, 0.99), 2),
    peakRssMb: round(m.peakRssMb, 1),
    dropped: m.dropped,
    blocks,
    stageMs,
    ...(m.earlyShare === undefined ? {} : { earlyShare: round(m.earlyShare) }),
  };
}
