import { CubestreamError } from '../../src/core/errors.js';
import type { ThresholdedFrame } from '../../src/core/scored-frame.js';

/**
 * A block that cannot join the frame already being assembled under its `cameraId`/`frameId`
 * (code `shape`): its width or `totalRows` differ from the first block's.
 */
export class BlockMismatchError extends CubestreamError {
  constructor(block: ThresholdedFrame, field: 'width' | 'totalRows', expected: number) {
    super(
      'shape',
      `block of camera ${block.cameraId} frame ${block.frameId} at row ${block.rowOffset}: ` +
        `${field} = ${block[field]}, but earlier blocks of that frame have ${expected}`,
    );
  }
}

/** A whole frame put together from its blocks, ready to be decided. */
export interface AssembledFrame {
  /** Identity of the first block received, geometry of the whole frame (`rowOffset` 0, `height` = `totalRows`). */
  readonly frame: ThresholdedFrame;
  /** 1 where a received pixel's score >= its own block's τ; 0 on rows never received. */
  readonly mask: Uint8Array;
  /** Pixels received. */
  readonly pixels: number;
  /** Highest score received (-Infinity when every score was NaN). */
  readonly maxScore: number;
  /** Rows of the frame never received (0 when complete). */
  readonly missingRows: number;
}

/** How many emitted frame ids per camera are remembered to recognise late blocks. */
const RECENT = 64;

interface Pending {
  readonly first: ThresholdedFrame;
  readonly scores: Float32Array;
  readonly mask: Uint8Array;
  readonly labels: Uint8Array | undefined;
  readonly rowSeen: Uint8Array;
  rowsSeen: number;
  pixels: number;
  threshold: number;
  capturedAt: number;
  /** The `release` of every block put in (their buffers are not read after scoring). */
  readonly releases: (() => void)[];
}

/**
 * Buffers the row blocks of each camera's frames by `frameId` until `rowOffset`/`totalRows`
 * say the frame is complete. When a frame completes, that camera's older incomplete frames are
 * flushed first (frame-id order); at most `maxPending` frames wait per camera (the oldest is
 * flushed incomplete beyond that). A block of a frame emitted recently (one of the last 64 of
 * its camera) is returned on its own (`late`), to be decided as a block; frame ids that start
 * over (a camera restart) assemble as usual. Rows received twice keep the later block.
 */
export class BlockAssembler {
  private readonly cameras = new Map<string, Map<number, Pending>>();
  /** Frame ids recently emitted per camera (the last {@link RECENT}). */
  private readonly emitted = new Map<string, number[]>();

  constructor(private readonly maxPending: number) {}

  /** Adds a block; returns the frames it completes or pushes out (in order), or the block itself when late. */
  add(block: ThresholdedFrame): { frames: AssembledFrame[]; late?: ThresholdedFrame } {
    if (this.emitted.get(block.cameraId)?.includes(block.frameId)) return { frames: [], late: block };
    let pending = this.cameras.get(block.cameraId);
    if (pending === undefined) {
      pending = new Map();
      this.cameras.set(block.cameraId, pending);
    }
    let frame = pending.get(block.frameId);
    const out: AssembledFrame[] = [];
    if (frame === undefined) {
      frame = start(block);
      pending.set(block.frameId, frame);
      if (pending.size > this.maxPending) {
        const [first] = pending.keys(); // the longest waiting
        out.push(...this.flush(block.cameraId, [first as number]));
      }
    }
    put(frame, block);
    if (frame.rowsSeen === block.totalRows) {
      const ids = [...pending.keys()].filter((id) => id <= block.frameId).sort((a, b) => a - b);
      out.push(...this.flush(block.cameraId, ids));
    }
    return { frames: out };
  }

  /** Flushes every waiting frame, complete or not (camera by camera, frame-id order). */
  flushAll(): AssembledFrame[] {
    const out: AssembledFrame[] = [];
    for (const [camera, pending] of this.cameras) {
      out.push(
        ...this.flush(
          camera,
          [...pending.keys()].sort((a, b) => a - b),
        ),
      );
    }
    return out;
  }

  /** Drops everything buffered, releasing the blocks' buffers. */
  clear(): void {
    for (const pending of this.cameras.values())
      for (const frame of pending.values()) for (const release of frame.releases) release();
    this.cameras.clear();
    this.emitted.clear();
  }

  private flush(camera: string, ids: number[]): AssembledFrame[] {
    const pending = this.cameras.get(camera);
    if (pending === undefined) return [];
    this.emitted.set(camera, [...(this.emitted.get(camera) ?? []), ...ids].slice(-RECENT));
    return ids.map((id) => {
      const frame = pending.get(id) as Pending;
      pending.delete(id);
      return finish(frame);
    });
  }
}

function start(block: ThresholdedFrame): Pending {
  const size = block.totalRows * block.width;
  return {
    first: block,
    scores: new Float32Array(size),
    mask: new Uint8Array(size),
    labels: block.labels === undefined ? undefined : new Uint8Array(size),
    rowSeen: new Uint8Array(block.totalRows),
    rowsSeen: 0,
    pixels: 0,
    threshold: block.threshold,
    capturedAt: block.capturedAt,
    releases: [],
  };
}

function put(frame: Pending, block: ThresholdedFrame): void {
  const { first } = frame;
  if (block.width !== first.width) throw new BlockMismatchError(block, 'width', first.width);
  if (block.totalRows !== first.totalRows) throw new BlockMismatchError(block, 'totalRows', first.totalRows);
  const at = block.rowOffset * block.width;
  frame.scores.set(block.scores, at);
  if (frame.labels !== undefined && block.labels !== undefined) frame.labels.set(block.labels, at);
  for (let i = 0; i < block.scores.length; i++) {
    const s = block.scores[i] as number;
    frame.mask[at + i] = s >= block.threshold ? 1 : 0;
  }
  for (let r = block.rowOffset; r < block.rowOffset + block.height; r++) {
    if (frame.rowSeen[r] === 0) {
      frame.rowSeen[r] = 1;
      frame.rowsSeen++;
      frame.pixels += block.width;
    }
  }
  frame.threshold = Math.min(frame.threshold, block.threshold);
  frame.capturedAt = Math.min(frame.capturedAt, block.capturedAt);
  if (block.release !== undefined) frame.releases.push(block.release);
}

function finish(frame: Pending): AssembledFrame {
  const { first } = frame;
  let maxScore = Number.NEGATIVE_INFINITY;
  for (let r = 0; r < first.totalRows; r++) {
    if (frame.rowSeen[r] === 0) continue;
    for (let i = r * first.width; i < (r + 1) * first.width; i++) {
      const s = frame.scores[i] as number;
      if (s > maxScore) maxScore = s;
    }
  }
  // The first block's spectra and release are its own: the whole frame has no spectra, and
  // releases every block's buffer.
  const { spectra: _spectra, release: _release, ...identity } = first;
  const { releases } = frame;
  const whole: ThresholdedFrame = {
    ...identity,
    rowOffset: 0,
    height: first.totalRows,
    capturedAt: frame.capturedAt,
    scores: frame.scores,
    threshold: frame.threshold,
    ...(frame.labels === undefined ? {} : { labels: frame.labels }),
    ...(releases.length === 0
      ? {}
      : {
          release: () => {
            for (const release of releases) release();
          },
        }),
  };
  return {
    frame: whole,
    mask: frame.mask,
    pixels: frame.pixels,
    maxScore,
    missingRows: first.totalRows - frame.rowsSeen,
  };
}
