/**
 * The figures of the drift bench, computed from one variant's per-block record over a scenario:
 * false alarms, recall, recovery after a lamp step, τ's drift, and recall right after a burst.
 */

/** One decided block of a drift run. */
export interface DriftBlockRecord {
  /** Belt time of the block (seconds since the start). */
  readonly second: number;
  /** τ applied. */
  readonly tau: number;
  /** ‖c − c₀‖ after the block. */
  readonly centerDrift: number;
  /** No foreign-body pixel in the block. */
  readonly clean: boolean;
  /** Judged anomalous. */
  readonly flagged: boolean;
  /** Foreign bodies settled with this block: found, missed. */
  readonly found: number;
  readonly missed: number;
}

/** The figures of one variant on one scenario. */
export interface DriftFigures {
  readonly cleanBlocks: number;
  readonly falseAlarms: number;
  /** Clean blocks flagged / clean blocks. */
  readonly falseAlarmRate: number | null;
  readonly foreignBodies: number;
  readonly found: number;
  /** Foreign bodies found / present. */
  readonly recall: number | null;
  /**
   * After an onset (the lamp step): seconds until the last false alarm of the
   * {@link RECOVERY_HORIZON_SECONDS} after it, 0 when there was none; null without an onset.
   */
  readonly recoverySeconds: number | null;
  /** τ at the end / τ after the first minute, minus 1 (0 = no drift). */
  readonly tauDrift: number | null;
  readonly tauStart: number | null;
  readonly tauEnd: number | null;
  readonly tauMax: number | null;
  /** Recall of the foreign bodies settled in the {@link AFTER_BURST_SECONDS} after a burst; null without one. */
  readonly recallAfterBurst: number | null;
}

/** How long after an onset false alarms count against recovery (seconds). */
export const RECOVERY_HORIZON_SECONDS = 600;

/** The window after a burst whose recall is reported (seconds). */
export const AFTER_BURST_SECONDS = 300;

/** Seconds at the start whose τ is the warm-up, not the reference of `tauDrift`. */
const TAU_SETTLE_SECONDS = 60;

/**
 * Computes the figures of one run.
 *
 * @param blocks - the run's blocks in order
 * @param onsetSecond - when the lamp stepped (for `recoverySeconds`)
 * @param burst - the burst's span in seconds (for `recallAfterBurst`)
 */
export function driftFigures(
  blocks: readonly DriftBlockRecord[],
  onsetSecond?: number,
  burst?: readonly [start: number, end: number],
): DriftFigures {
  let cleanBlocks = 0;
  let falseAlarms = 0;
  let found = 0;
  let missed = 0;
  let lastAlarmAfterOnset: number | undefined;
  let burstFound = 0;
  let burstMissed = 0;
  for (const b of blocks) {
    if (b.clean) cleanBlocks++;
    const falseAlarm = b.clean && b.flagged;
    if (falseAlarm) falseAlarms++;
    found += b.found;
    missed += b.missed;
    if (
      falseAlarm &&
      onsetSecond !== undefined &&
      b.second >= onsetSecond &&
      b.second < onsetSecond + RECOVERY_HORIZON_SECONDS
    ) {
      lastAlarmAfterOnset = b.second;
    }
    if (burst !== undefined && b.second >= burst[1] && b.second < burst[1] + AFTER_BURST_SECONDS) {
      burstFound += b.found;
      burstMissed += b.missed;
    }
  }
  const settled = blocks.find((b) => b.second >= TAU_SETTLE_SECONDS) ?? blocks[0];
  const last = blocks[blocks.length - 1];
  const tauStart = settled?.tau ?? null;
  const tauEnd = last?.tau ?? null;
  return {
    cleanBlocks,
    falseAlarms,
    falseAlarmRate: cleanBlocks > 0 ? falseAlarms / cleanBlocks : null,
    foreignBodies: found + missed,
    found,
    recall: found + missed > 0 ? found / (found + missed) : null,
    recoverySeconds:
      onsetSecond === undefined
        ? null
        : lastAlarmAfterOnset === undefined
          ? 0
          : lastAlarmAfterOnset - onsetSecond + 1,
    tauDrift: tauStart !== null && tauEnd !== null && tauStart > 0 ? tauEnd / tauStart - 1 : null,
    tauStart,
    tauEnd,
    tauMax: blocks.length === 0 ? null : Math.max(...blocks.map((b) => b.tau)),
    recallAfterBurst:
      burst === undefined || burstFound + burstMissed === 0 ? null : burstFound / (burstFound + burstMissed),
  };
}

/** Share of clean blocks flagged in each window of `seconds` (NaN where a window has no clean block). */
export function windowedFalseAlarmRate(blocks: readonly DriftBlockRecord[], seconds: number): number[] {
  const out: number[] = [];
  for (let start = 0; start < blocks.length; start += seconds) {
    let clean = 0;
    let alarms = 0;
    for (const b of blocks.slice(start, start + seconds)) {
      if (!b.clean) continue;
      clean++;
      if (b.flagged) alarms++;
    }
    out.push(clean > 0 ? alarms / clean : Number.NaN);
  }
  return out;
}

/** Recall of the foreign bodies settled in each window of `seconds` (NaN where none settled). */
export function windowedRecall(blocks: readonly DriftBlockRecord[], seconds: number): number[] {
  const out: number[] = [];
  for (let start = 0; start < blocks.length; start += seconds) {
    let found = 0;
    let present = 0;
    for (const b of blocks.slice(start, start + seconds)) {
      found += b.found;
      present += b.found + b.missed;
    }
    out.push(present > 0 ? found / present : Number.NaN);
  }
  return out;
}
