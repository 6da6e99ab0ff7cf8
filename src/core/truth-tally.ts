/**
 * Online scoring of decisions against the truth a source knows (`CubeFrame.truth`): false alarms
 * on clean blocks and foreign bodies found, as the stream runs. The drift bench, the demo's
 * summary line and the viewer read the same figures.
 */
import type { BlockTruth } from './truth.js';

/** What {@link TruthTally.observe} needs of a decided block. */
export interface DecidedWithTruth {
  readonly cameraId: string;
  /** The source's truth; blocks without it are not counted. */
  readonly truth?: BlockTruth;
  /** 1 where the pixel was judged anomalous (`height * width`). */
  readonly mask: Uint8Array;
  readonly decision: { readonly anomalous: boolean };
}

/** What one block added to the tally. */
export interface BlockOutcome {
  /** No foreign-body pixel in the block. */
  readonly clean: boolean;
  /** A clean block judged anomalous. */
  readonly falseAlarm: boolean;
  /** Foreign bodies (of at least `minArea` pixels) that left the stream with this block, found. */
  readonly found: number;
  /** ... and missed. */
  readonly missed: number;
}

/** The running figures. Rates are `null` until their denominator is positive. */
export interface TruthFigures {
  /** Blocks that carried truth. */
  readonly blocks: number;
  /** Of those, blocks without a foreign-body pixel. */
  readonly cleanBlocks: number;
  /** Clean blocks judged anomalous. */
  readonly falseAlarms: number;
  /** falseAlarms / cleanBlocks. */
  readonly falseAlarmRate: number | null;
  /** Foreign bodies of at least `minArea` visible pixels, over all their blocks, whose last block was decided. */
  readonly foreignBodies: number;
  /** Of those, found: in some block judged anomalous, the mask marks at least one of its pixels. */
  readonly found: number;
  /** found / foreignBodies. */
  readonly recall: number | null;
}

/** A foreign body still on the belt (seen in the camera's latest block). */
interface OpenObject {
  area: number;
  found: boolean;
  seenAt: number;
}

/**
 * Matches decisions to the truth online. A foreign body counts once however many blocks it
 * spans: it is *present* when its visible pixels over all its blocks reach `minArea` (the
 * frame verdict's smallest blob), *found* when any block it lies in was judged anomalous with a
 * mask pixel on it, and it is settled when a block of its camera no longer shows it (or at
 * {@link TruthTally.finish}).
 *
 * @example
 * ```ts
 * const tally = new TruthTally({ minArea: 4 });
 * tally.observe(decided); // each decided block, in order
 * tally.figures().falseAlarmRate; // null until a clean block was seen
 * ```
 */
export class TruthTally {
  readonly #minArea: number;
  readonly #open = new Map<string, Map<number, OpenObject>>();
  readonly #seq = new Map<string, number>();
  #blocks = 0;
  #clean = 0;
  #falseAlarms = 0;
  #present = 0;
  #found = 0;

  /** @param options - `minArea`: pixels a foreign body needs to count (the pipeline's `decide.minArea`) */
  constructor(options: { readonly minArea: number }) {
    this.#minArea = Math.max(1, options.minArea);
  }

  /** Adds one decided block; returns what it changed, or undefined when it carries no truth. */
  observe(block: DecidedWithTruth): BlockOutcome | undefined {
    const truth = block.truth;
    if (truth === undefined) return undefined;
    const seq = (this.#seq.get(block.cameraId) ?? 0) + 1;
    this.#seq.set(block.cameraId, seq);
    let open = this.#open.get(block.cameraId);
    if (open === undefined) {
      open = new Map();
      this.#open.set(block.cameraId, open);
    }
    const anomalous = block.decision.anomalous;
    for (const body of truth.foreignBodies) {
      let object = open.get(body.objectId);
      if (object === undefined) {
        object = { area: 0, found: false, seenAt: seq };
        open.set(body.objectId, object);
      }
      object.area += body.pixels.length;
      object.seenAt = seq;
      if (anomalous && !object.found) object.found = hitsMask(body.pixels, block.mask);
    }
    const clean = truth.foreignBodies.length === 0;
    const falseAlarm = clean && anomalous;
    this.#blocks++;
    if (clean) this.#clean++;
    if (falseAlarm) this.#falseAlarms++;
    const settled = this.#settle(open, (object) => object.seenAt < seq);
    return { clean, falseAlarm, ...settled };
  }

  /** Settles every foreign body still open (the stream ended). */
  finish(): void {
    for (const open of this.#open.values()) this.#settle(open, () => true);
  }

  /** The figures so far. */
  figures(): TruthFigures {
    return {
      blocks: this.#blocks,
      cleanBlocks: this.#clean,
      falseAlarms: this.#falseAlarms,
      falseAlarmRate: this.#clean > 0 ? this.#falseAlarms / this.#clean : null,
      foreignBodies: this.#present,
      found: this.#found,
      recall: this.#present > 0 ? this.#found / this.#present : null,
    };
  }

  #settle(
    open: Map<number, OpenObject>,
    done: (object: OpenObject) => boolean,
  ): { found: number; missed: number } {
    let found = 0;
    let missed = 0;
    for (const [id, object] of open) {
      if (!done(object)) continue;
      open.delete(id);
      if (object.area < this.#minArea) continue;
      if (object.found) found++;
      else missed++;
    }
    this.#present += found + missed;
    this.#found += found;
    return { found, missed };
  }
}

function hitsMask(pixels: Uint32Array, mask: Uint8Array): boolean {
  for (let i = 0; i < pixels.length; i++) if (mask[pixels[i]!] === 1) return true;
  return false;
}
