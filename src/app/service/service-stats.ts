/**
 * Running totals the service keeps besides the Prometheus registry, cheap to read on every
 * summary line and viewer status: frames, decisions, drops, rejects, τ per camera, and a window
 * of recent capture -> published latencies for the p99.
 */

import type { DecidedWithTruth, TruthFigures } from '../../core/truth-tally.js';
import { TruthTally } from '../../core/truth-tally.js';
import { LatencyWindow } from '../../telemetry/latency-window.js';

/** A point-in-time copy of {@link ServiceStats}. */
export interface StatsSnapshot {
  /** Frames that entered the pipeline. */
  readonly frames: number;
  readonly decisions: number;
  readonly anomalous: number;
  /** Frames dropped by the backpressure queue. */
  readonly dropped: number;
  /** Frames and messages rejected as bad input. */
  readonly rejected: number;
  /** p99 of the recent capture -> published latencies in seconds, undefined before the first. */
  readonly latencyP99: number | undefined;
  /** Latest τ per camera. */
  readonly thresholds: ReadonlyMap<string, number>;
  /** False alarms and recall against the source's truth, all cameras together; absent when no block carried truth. */
  readonly truth?: TruthFigures;
}

/** Blocks after a start whose latencies the p99 leaves out (warm-up). */
export const WARMUP_BLOCKS = 8;

/**
 * Counters of one service run.
 *
 * @example
 * ```ts
 * const stats = new ServiceStats();
 * stats.frames += 1;
 * stats.recordLatency(0.042);
 * stats.snapshot().latencyP99; // 0.042
 * ```
 */
export class ServiceStats {
  frames = 0;
  decisions = 0;
  /** `unknown` decisions published for blocks that left the pipeline undecided (rejected, dropped). */
  undecided = 0;
  anomalous = 0;
  dropped = 0;
  rejected = 0;
  /** Latest τ per camera. */
  readonly thresholds = new Map<string, number>();
  /** Latest ‖c − c₀‖ per camera. */
  readonly centerDrifts = new Map<string, number>();
  private readonly droppedByCamera = new Map<string, number>();
  private readonly tallies = new Map<string, TruthTally>();
  private readonly overall: TruthTally;
  private readonly latencies: LatencyWindow;
  private warmupLeft: number;

  /**
   * @param latencyWindow - latencies kept for the p99 (default 1024)
   * @param warmupBlocks - first latencies left out of the p99: the first blocks after a start
   *   pay for JIT compilation and first allocations (default {@link WARMUP_BLOCKS})
   * @param minArea - pixels a foreign body needs to count in the truth figures (the pipeline's `decide.minArea`; default 1)
   */
  constructor(latencyWindow = 1024, warmupBlocks = WARMUP_BLOCKS, minArea = 1) {
    this.latencies = new LatencyWindow(latencyWindow);
    this.warmupLeft = warmupBlocks;
    this.minArea = minArea;
    this.overall = new TruthTally({ minArea });
  }

  private readonly minArea: number;

  /**
   * Matches a decided block against the truth its source knew (`CubeFrame.truth`, the
   * simulator's); blocks without truth change nothing. Cameras are the source's own (bounded by
   * its configuration), so one tally per camera stays bounded.
   */
  observeTruth(block: DecidedWithTruth): void {
    if (block.truth === undefined) return;
    this.overall.observe(block);
    let tally = this.tallies.get(block.cameraId);
    if (tally === undefined) {
      tally = new TruthTally({ minArea: this.minArea });
      this.tallies.set(block.cameraId, tally);
    }
    tally.observe(block);
  }

  /** The truth figures of `cameraId`, undefined when its blocks carry no truth. */
  truthOf(cameraId: string): TruthFigures | undefined {
    return this.tallies.get(cameraId)?.figures();
  }

  /** True once the warm-up blocks are past (their latencies are not in the p99). */
  get warmedUp(): boolean {
    return this.warmupLeft === 0;
  }

  /** Counts a dropped frame of `cameraId`. */
  drop(cameraId: string): void {
    this.dropped += 1;
    this.droppedByCamera.set(cameraId, (this.droppedByCamera.get(cameraId) ?? 0) + 1);
  }

  /** Frames of `cameraId` dropped so far. */
  droppedOf(cameraId: string): number {
    return this.droppedByCamera.get(cameraId) ?? 0;
  }

  /** Adds a capture -> published latency in seconds. */
  recordLatency(seconds: number): void {
    if (this.warmupLeft > 0) {
      this.warmupLeft -= 1;
      return;
    }
    this.latencies.add(seconds);
  }

  /** p99 of the latencies in the window (nearest rank), undefined when there are none. */
  latencyP99(): number | undefined {
    return this.latencies.p99();
  }

  /** A copy of the counters. */
  snapshot(): StatsSnapshot {
    return {
      frames: this.frames,
      decisions: this.decisions,
      anomalous: this.anomalous,
      dropped: this.dropped,
      rejected: this.rejected,
      latencyP99: this.latencyP99(),
      thresholds: new Map(this.thresholds),
      ...(this.tallies.size === 0 ? {} : { truth: this.overall.figures() }),
    };
  }
}
