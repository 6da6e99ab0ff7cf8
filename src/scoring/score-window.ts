import type { DDSketch } from '@datadog/sketches-js';
import { float32Base64, float32FromBase64 } from '../core/float32-base64.js';
import {
  interpolateRank,
  type OrderPair,
  type QuantileRank,
  quantileRank,
  selectPairInPlace,
} from '../core/quantile.js';
import {
  addScoresBelow,
  emptySketch,
  mergeSketchInto,
  sketchSize,
  sketchValueAtRank,
} from './score-sketch.js';

/** How a window keeps its scores: every value (`exact`) or one DDSketch per frame (`ddsketch`). */
export type WindowSummary = 'exact' | 'ddsketch';

/** How far back a window reaches; an entry leaves when either limit is passed. */
export interface WindowLimits {
  /** Keep the last `frames` frames. */
  readonly frames?: number;
  /** Keep frames opened less than `seconds` ago (by the window's clock). */
  readonly seconds?: number;
}

interface Entry {
  readonly frameId: number;
  readonly openedAt: number;
  /** Kept scores (`exact`): one chunk per block. */
  readonly chunks: Float32Array[];
  /** Kept scores (`ddsketch`). */
  readonly sketch: DDSketch | undefined;
  kept: number;
  censored: number;
}

/** A window entry as a checkpoint carries it (JSON; scores as base64 float32, exact to the bit). */
export interface ScoreWindowEntryState {
  readonly frameId: number;
  readonly openedAt: number;
  readonly kept: number;
  readonly censored: number;
  /** `exact`: the kept scores, little-endian float32, base64. */
  readonly scores?: string;
  /** `ddsketch`: the sketch's non-empty buckets `[key, count]` and its totals. */
  readonly sketch?: {
    readonly bins: readonly (readonly [number, number])[];
    readonly zeroCount: number;
    readonly count: number;
    readonly sum: number;
    /** Null for an empty sketch (its ±Infinity, which JSON cannot carry). */
    readonly min: number | null;
    readonly max: number | null;
  };
}

/** Everything a {@link ScoreWindow} holds, to continue it in another process. */
export interface ScoreWindowState {
  readonly summary: WindowSummary;
  readonly relativeAccuracy: number;
  readonly firstOpenedAt: number | undefined;
  readonly closed: readonly ScoreWindowEntryState[];
  readonly open: ScoreWindowEntryState | undefined;
}

function below(scores: Float32Array, bar: number): Float32Array {
  const out = new Float32Array(scores.length);
  let n = 0;
  for (let i = 0; i < scores.length; i++) {
    const s = scores[i] as number;
    if (s < bar) out[n++] = s;
  }
  return out.slice(0, n);
}

/**
 * The rolling score window of one camera: one entry per frame, the open entry collecting the
 * current frame's blocks. Scores judged anomalous are *censored*: counted as lying above every
 * kept score (they take up ranks at the top) without their values. So on clean data the
 * window's quantile is the plain quantile of all scores (no downward ratchet from cutting off
 * the tail every frame), while anomalies, however high, only push the rank up, never past the
 * largest kept score.
 */
export class ScoreWindow {
  private readonly closed: Entry[] = [];
  private open: Entry | undefined;
  private firstOpenedAt: number | undefined;
  private scratch = new Float32Array(0);

  constructor(
    private readonly limits: WindowLimits,
    private readonly summary: WindowSummary,
    private readonly relativeAccuracy: number,
  ) {}

  /** Closes the open frame into the window, expires what is too old at `now` and opens `frameId`. */
  openFrame(frameId: number, now: number): void {
    if (this.open !== undefined) this.closed.push(this.open);
    this.firstOpenedAt ??= now;
    const { frames, seconds } = this.limits;
    if (frames !== undefined) this.closed.splice(0, Math.max(0, this.closed.length - frames));
    if (seconds !== undefined) {
      const fresh = this.closed.findIndex((e) => now - e.openedAt < seconds * 1000);
      this.closed.splice(0, fresh < 0 ? this.closed.length : fresh);
    }
    const sketch = this.summary === 'ddsketch' ? emptySketch(this.relativeAccuracy) : undefined;
    this.open = { frameId, openedAt: now, chunks: [], sketch, kept: 0, censored: 0 };
  }

  /** Adds a block of the open frame: scores < `bar` are kept, the others censored. */
  add(scores: Float32Array, bar: number): void {
    const entry = this.open;
    if (entry === undefined) throw new Error('ScoreWindow.add before openFrame');
    let kept: number;
    if (entry.sketch !== undefined) kept = addScoresBelow(entry.sketch, scores, bar);
    else {
      const chunk = bar === Number.POSITIVE_INFINITY ? scores.slice() : below(scores, bar);
      entry.chunks.push(chunk);
      kept = chunk.length;
    }
    entry.kept += kept;
    entry.censored += scores.length - kept;
  }

  /** Kept scores in the closed frames. */
  get kept(): number {
    return this.closed.reduce((sum, e) => sum + e.kept, 0);
  }

  /** Closed frames in the window. */
  get frames(): number {
    return this.closed.length;
  }

  /** Whether the window reaches as far back as it ever will: `frames` frames, or `seconds` of history. */
  isFull(now: number): boolean {
    const { frames, seconds } = this.limits;
    const byFrames = frames !== undefined && this.closed.length >= frames;
    const bySeconds =
      seconds !== undefined && this.firstOpenedAt !== undefined && now - this.firstOpenedAt >= seconds * 1000;
    return byFrames || bySeconds;
  }

  /**
   * The q-quantile (linear interpolation) of the closed frames' scores, censored ones counted at
   * the top; the largest kept score when the quantile falls among the censored. Undefined when
   * nothing is kept.
   */
  quantile(q: number): number | undefined {
    const kept = this.kept;
    if (kept === 0) return undefined;
    const total = kept + this.closed.reduce((sum, e) => sum + e.censored, 0);
    const rank = quantileRank(total, q);
    const at = this.summary === 'ddsketch' ? this.sketchRanks() : this.exactRanks(kept);
    if (rank.lower >= kept - 1) return at({ lower: kept - 1, upper: kept - 1, t: 0 }).lower;
    const { lower, upper } = at(rank);
    return interpolateRank(rank, lower, upper);
  }

  /**
   * True during a burst of anomalies: the q-quantile's rank falls among the censored scores and
   * they are more than twice the share 1 - q that a calibrated τ censors on clean data.
   */
  censoredBurst(q: number): boolean {
    const kept = this.kept;
    const censored = this.closed.reduce((sum, e) => sum + e.censored, 0);
    const total = kept + censored;
    return censored > 2 * (1 - q) * total && quantileRank(total, q).upper > kept - 1;
  }

  /** Everything the window holds, for a checkpoint ({@link ScoreWindow.fromState} continues it). */
  toState(): ScoreWindowState {
    const entry = (e: Entry): ScoreWindowEntryState => {
      const base = { frameId: e.frameId, openedAt: e.openedAt, kept: e.kept, censored: e.censored };
      if (e.sketch === undefined) return { ...base, scores: float32Base64(...e.chunks) };
      const { bins, offset } = e.sketch.store;
      const pairs: [number, number][] = [];
      for (let i = 0; i < bins.length; i++)
        if ((bins[i] as number) > 0) pairs.push([i + offset, bins[i] as number]);
      const { zeroCount, count, sum, min, max } = e.sketch;
      const finite = (v: number) => (Number.isFinite(v) ? v : null);
      return { ...base, sketch: { bins: pairs, zeroCount, count, sum, min: finite(min), max: finite(max) } };
    };
    return {
      summary: this.summary,
      relativeAccuracy: this.relativeAccuracy,
      firstOpenedAt: this.firstOpenedAt,
      closed: this.closed.map(entry),
      open: this.open === undefined ? undefined : entry(this.open),
    };
  }

  /**
   * A window continuing `state` with these limits (they apply from the next frame on).
   *
   * @throws Error when `state` was kept another way (`exact` vs `ddsketch`, or another α), or
   *   holds scores that are not float32 values
   */
  static fromState(
    state: ScoreWindowState,
    limits: WindowLimits,
    summary: WindowSummary,
    relativeAccuracy: number,
  ): ScoreWindow {
    if (
      state.summary !== summary ||
      (summary === 'ddsketch' && state.relativeAccuracy !== relativeAccuracy)
    ) {
      throw new Error(
        `the window was kept as ${state.summary} (α ${state.relativeAccuracy}), this one as ${summary} (α ${relativeAccuracy})`,
      );
    }
    const entry = (e: ScoreWindowEntryState): Entry => {
      if (summary === 'exact') {
        const chunk = float32FromBase64(e.scores ?? '');
        if (chunk.length !== e.kept)
          throw new Error(`frame ${e.frameId}: ${chunk.length} scores for ${e.kept} kept`);
        return {
          frameId: e.frameId,
          openedAt: e.openedAt,
          chunks: [chunk],
          sketch: undefined,
          kept: e.kept,
          censored: e.censored,
        };
      }
      const sketch = emptySketch(relativeAccuracy);
      const from = e.sketch;
      if (from === undefined) throw new Error(`frame ${e.frameId}: no sketch`);
      for (const [key, count] of from.bins) sketch.store.add(key, count);
      sketch.zeroCount = from.zeroCount;
      sketch.count = from.count;
      sketch.sum = from.sum;
      if (from.min !== null) sketch.min = from.min;
      if (from.max !== null) sketch.max = from.max;
      return {
        frameId: e.frameId,
        openedAt: e.openedAt,
        chunks: [],
        sketch,
        kept: e.kept,
        censored: e.censored,
      };
    };
    const window = new ScoreWindow(limits, summary, relativeAccuracy);
    window.closed.push(...state.closed.map(entry));
    window.open = state.open === undefined ? undefined : entry(state.open);
    window.firstOpenedAt = state.firstOpenedAt;
    return window;
  }

  /** Drops everything (on finalize). */
  clear(): void {
    this.closed.length = 0;
    this.open = undefined;
    this.scratch = new Float32Array(0);
  }

  private exactRanks(kept: number): (rank: QuantileRank) => OrderPair {
    if (this.scratch.length < kept) this.scratch = new Float32Array(Math.max(kept, this.scratch.length * 2));
    const values = this.scratch.subarray(0, kept);
    let at = 0;
    for (const entry of this.closed) {
      for (const chunk of entry.chunks) {
        values.set(chunk, at);
        at += chunk.length;
      }
    }
    return (rank) => selectPairInPlace(values, rank);
  }

  private sketchRanks(): (rank: QuantileRank) => OrderPair {
    const merged = emptySketch(this.relativeAccuracy);
    for (const entry of this.closed) if (entry.sketch !== undefined) mergeSketchInto(merged, entry.sketch);
    if (sketchSize(merged) === 0) return () => ({ lower: Number.NaN, upper: Number.NaN });
    return (rank) => ({
      lower: sketchValueAtRank(merged, rank.lower),
      upper: sketchValueAtRank(merged, rank.upper),
    });
  }
}
