import type { RowsReady } from '../../core/rows-ready.js';
import type { ChunkSums } from './deep-svdd-run.js';
import type { FusedInputFrame } from './uint16-frame.js';

/** A block to score: a frame, or the rows of one still being captured. */
export type ScoringInput = Pick<
  FusedInputFrame,
  'data' | 'height' | 'width' | 'bands' | 'wavelengths' | 'wavelengthUnits'
>;

/** The centre and gate τ a block is scored with; early rows count only if the block gets the same. */
export interface ScoringSnapshot {
  readonly center: Float32Array;
  readonly tau: number;
}

/** What a fused scorer's `onScored` gets per block. */
export interface FrameScored {
  readonly cameraId: string;
  /** Pixels in the block. */
  readonly pixels: number;
  /** Of them, scored from early rows before the frame arrived. */
  readonly earlyPixels: number;
}

/** Scores and each chunk's centre sums of a run of pixels. */
export interface ScoredPart {
  /** One score per pixel of the part. */
  readonly scores: Float32Array;
  /** The chunks' gated sums, in pixel order. */
  readonly chunks: readonly ChunkSums[];
}

/** What a block's frame finds already scored: pixels `0 .. pixels-1`. */
export interface EarlyScored extends ScoredPart {
  /** Pixels scored early (a prefix of the block, whole chunks); `scores` holds the whole block's length. */
  readonly pixels: number;
}

/** Options of {@link EarlyRowScorer}. */
export interface EarlyRowScorerOptions {
  /** Scores pixels `from .. to-1` of a block under `snapshot`, in chunks on the block's grid. */
  readonly run: (rows: RowsReady, from: number, to: number, snapshot: ScoringSnapshot) => Promise<ScoredPart>;
  /** The snapshot the camera's next block would be scored with now. */
  readonly snapshot: (cameraId: string) => ScoringSnapshot;
  /** The chunk grid of a block's runs: every run starts and (but for the block's last) ends on it. */
  readonly chunkPixels: (rows: RowsReady) => number;
  /** Blocks tracked at once; the oldest is forgotten beyond it (default 4). */
  readonly maxBlocks?: number;
}

interface Entry {
  rows: RowsReady;
  readonly scores: Float32Array;
  readonly chunks: ChunkSums[];
  /** Pixels handed to runs so far (scored or in flight). */
  claimed: number;
  /** Pixels whose results are in. */
  scored: number;
  snapshot: ScoringSnapshot | undefined;
  failed: boolean;
}

/** Same length and the same value at every index (`Object.is`). */
function sameValues(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}

function sameSnapshot(a: ScoringSnapshot, b: ScoringSnapshot): boolean {
  return Object.is(a.tau, b.tau) && sameValues(a.center, b.center);
}

function sameBlock(rows: RowsReady, frame: FusedInputFrame): boolean {
  return (
    rows.cameraId === frame.cameraId &&
    rows.height === frame.height &&
    rows.width === frame.width &&
    rows.bands === frame.bands &&
    rows.wavelengthUnits === frame.wavelengthUnits &&
    sameValues(rows.wavelengths, frame.wavelengths)
  );
}

/**
 * Scores the rows of blocks still being captured ({@link RowsReady}) while the scorer has
 * nothing else to do, so that when a block's frame arrives only its last rows are left.
 *
 * Exactness: a run uses the centre and τ the camera's next block would get at that moment
 * (`snapshot`) and covers whole chunks of the block's grid, and {@link EarlyRowScorer.claim}
 * hands the results over only when the frame's own snapshot is the same (else they are dropped
 * and the block is scored whole). So when the frame's part is cut on the same grid, a block's
 * scores and chunk sums are bit for bit those of scoring it whole: results never depend on
 * timing. Runs happen one at a time, never while a frame is being
 * scored ({@link EarlyRowScorer.pause} .. {@link EarlyRowScorer.resume}): a frame scored in
 * between would move the centre. Blocks are matched by their buffer (`data`, the same object
 * in the rows and in the frame); when a frame claims its block, the camera's blocks begun
 * before it (dropped on the way) are forgotten. A failed run is forgotten and the frame scores
 * the block itself (and reports any error there).
 *
 * @example
 * ```ts
 * import type { RowsReady } from 'cubestream';
 * import { CenterTracker } from '../center-tracker.js';
 * declare function run(rows: RowsReady, from: number, to: number, snapshot: ScoringSnapshot): Promise<ScoredPart>; // runDeepSvdd
 * const centers = new CenterTracker({ center: params.center });
 * const snapshot = (cam: string) => ({ center: centers.current(cam), tau: centers.tau(cam) });
 * const early = new EarlyRowScorer({ run, snapshot, chunkPixels: () => 4096 });
 * camera.rows?.subscribe((rows) => early.offer(rows));
 * // when a block's frame arrives:
 * await early.pause();
 * const done = early.claim(frame, snapshot(frame.cameraId)); // its rows scored ahead, or undefined
 * // ... score the rest of the block ...
 * early.resume();
 * ```
 */
export class EarlyRowScorer {
  readonly #options: EarlyRowScorerOptions;
  readonly #maxBlocks: number;
  readonly #entries = new Map<Float32Array | Uint16Array, Entry>();
  #inFlight: Promise<void> | undefined;
  #paused = false;
  #closed = false;
  #earlyPixels = 0;

  constructor(options: EarlyRowScorerOptions) {
    this.#options = options;
    this.#maxBlocks = options.maxBlocks ?? 4;
  }

  /** Pixels scored ahead of their frames so far (claimed or not). */
  get earlyPixels(): number {
    return this.#earlyPixels;
  }

  /** Records a block's progress and starts a run when enough new rows are in and nothing else runs. */
  offer(rows: RowsReady): void {
    if (this.#closed) return;
    const pixels = rows.height * rows.width;
    if (!(rows.rows >= 0 && rows.rows <= rows.height) || rows.data.length !== pixels * rows.bands) return;
    const known = this.#entries.get(rows.data);
    if (known !== undefined && rows.rows >= known.rows.rows) {
      known.rows = rows;
    } else {
      // A new block, or a buffer the source reuses for a later one: start afresh (last in order).
      this.#entries.delete(rows.data);
      while (this.#entries.size >= this.#maxBlocks) {
        const oldest = this.#entries.keys().next().value;
        if (oldest === undefined) break;
        this.#entries.delete(oldest);
      }
      this.#entries.set(rows.data, {
        rows,
        scores: new Float32Array(pixels),
        chunks: [],
        claimed: 0,
        scored: 0,
        snapshot: undefined,
        failed: false,
      });
    }
    this.#pump();
  }

  /** Stops new runs (a frame is about to be scored); resolves once the run in flight, if any, is done. */
  pause(): Promise<void> {
    this.#paused = true;
    return this.#inFlight ?? Promise.resolve();
  }

  /** Allows runs again (the frame's centre update and decision are out) and starts one if due. */
  resume(): void {
    this.#paused = false;
    this.#pump();
  }

  /**
   * Takes what was scored early for `frame`'s block, if it was scored under `snapshot` (the one
   * the frame is scored with); forgets the block either way. Call between pause and resume.
   */
  claim(frame: FusedInputFrame, snapshot: ScoringSnapshot): EarlyScored | undefined {
    const entry = this.#entries.get(frame.data);
    if (entry === undefined) return undefined;
    // Frames arrive in order: the camera's blocks begun before this one were dropped on the way.
    for (const [data, older] of this.#entries) {
      if (older === entry) break;
      if (older.rows.cameraId === frame.cameraId) this.#entries.delete(data);
    }
    this.#entries.delete(frame.data);
    const valid =
      !entry.failed &&
      entry.scored > 0 &&
      entry.scored === entry.claimed &&
      entry.snapshot !== undefined &&
      sameSnapshot(entry.snapshot, snapshot) &&
      sameBlock(entry.rows, frame);
    if (!valid) return undefined;
    return { pixels: entry.scored, scores: entry.scores, chunks: entry.chunks };
  }

  /** Forgets every block and starts no more runs (the one in flight finishes unseen). */
  close(): void {
    this.#closed = true;
    this.#entries.clear();
  }

  #pump(): void {
    if (this.#paused || this.#closed || this.#inFlight !== undefined) return;
    for (const entry of this.#entries.values()) {
      if (entry.failed) continue;
      const ready = entry.rows.rows * entry.rows.width;
      const now = this.#options.snapshot(entry.rows.cameraId);
      if (entry.snapshot !== undefined && !sameSnapshot(entry.snapshot, now)) {
        // A frame scored since moved the centre (or τ): what was done no longer counts.
        entry.claimed = entry.scored = 0;
        entry.chunks.length = 0;
        entry.snapshot = undefined;
      }
      const chunk = this.#options.chunkPixels(entry.rows);
      // Whole chunks only, but for a complete block's last one.
      const complete = entry.rows.rows === entry.rows.height;
      const to = complete ? ready : ready - (ready % chunk);
      if (to - entry.claimed < (complete ? 1 : chunk)) continue;
      this.#start(entry, to, now);
      return;
    }
  }

  #start(entry: Entry, to: number, snapshot: ScoringSnapshot): void {
    const from = entry.claimed;
    const data = entry.rows.data;
    entry.snapshot = snapshot;
    entry.claimed = to;
    this.#inFlight = this.#options
      .run(entry.rows, from, to, snapshot)
      .then(
        (part) => {
          if (this.#entries.get(data) !== entry) return;
          entry.scores.set(part.scores, from);
          entry.chunks.push(...part.chunks);
          entry.scored = to;
          this.#earlyPixels += to - from;
        },
        () => {
          entry.failed = true;
        },
      )
      .finally(() => {
        this.#inFlight = undefined;
        this.#pump();
      });
  }
}
