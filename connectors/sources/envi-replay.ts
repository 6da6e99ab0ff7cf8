import { Observable, Subject } from 'rxjs';
import { type CubeFrame, createFrame, DEFAULT_CAMERA_ID, validateGeometry } from '../../src/core/frame.js';
import { FrameBufferPool } from '../../src/core/frame-buffer-pool.js';
import { OptionError } from '../../src/core/options.js';
import type { RowsReady } from '../../src/core/rows-ready.js';
import { findEnviMask, listEnviCubes } from '../../src/io/envi/discover.js';
import { EnviDataError } from '../../src/io/envi/errors.js';
import { type EnviReader, openEnvi, readEnviMask } from '../../src/io/envi/reader.js';
import type { RejectedMessage } from './broker-frame-source.js';
import type { Demand } from './demand.js';
import { type CubeFailure, NoReadableCubeError, rejectedCube } from './envi-rejects.js';
import { type CameraSource, createSourceState } from './source-state.js';

/** Options of {@link enviReplay}. */
export interface EnviReplayOptions {
  /** A cube header (`.hdr`), or a folder: every `*.hdr` below it except mask headers, in path order. */
  path: string;
  /** Lines per emitted block (default: the whole cube in one frame). */
  blockRows?: number;
  /** Pace emission like a line-scan camera (real timers); default: as fast as the consumer takes them. */
  linesPerSecond?: number;
  /** Without `linesPerSecond`: awaited before each block, so that an asynchronous consumer sets the pace. */
  demand?: Demand;
  /** Start again from the first cube after the last (default false). */
  loop?: boolean;
  /** Camera id of the frames (default `cam0`). */
  cameraId?: string;
  /** Largest `height * width * bands` of one block (default 2^28); checked before reading. */
  maxValues?: number;
  /**
   * Called for each cube that cannot be replayed (missing or truncated data file, bad header or
   * mask, a block over `maxValues`, a failed read), with an {@link InvalidFrameError} naming the
   * header and the problem (see {@link rejectedCube}): the cube is skipped (a cube that fails
   * part-way keeps the blocks already sent) and the replay goes on with the next. A pass in which
   * every cube fails ends the stream with {@link NoReadableCubeError}, also with `loop`. Without
   * `onReject`, the first bad cube ends the stream with its own error.
   */
  onReject?: (rejected: RejectedMessage) => void;
}

/** Shortest wait between two paced steps (ms): at high line rates a step covers several lines. */
const MIN_TICK_MS = 2;

/** The component an {@link OptionError} of {@link enviReplay} names. */
const ENVI_REPLAY = 'enviReplay';

function checkOptions(options: EnviReplayOptions): void {
  if (typeof options.path !== 'string' || options.path === '') {
    throw new OptionError(ENVI_REPLAY, 'path', options.path, 'must be a non-empty string');
  }
  const { blockRows, linesPerSecond } = options;
  if (blockRows !== undefined && (!Number.isSafeInteger(blockRows) || blockRows <= 0)) {
    throw new OptionError(ENVI_REPLAY, 'blockRows', blockRows, 'must be a positive integer');
  }
  if (linesPerSecond !== undefined && !(Number.isFinite(linesPerSecond) && linesPerSecond > 0)) {
    throw new OptionError(ENVI_REPLAY, 'linesPerSecond', linesPerSecond, 'must be a positive number');
  }
}

/** An error of the cube being replayed (it is skipped), not of the replay itself. */
class CubeStepError extends Error {
  constructor(readonly reason: unknown) {
    super('cube step failed');
  }
}

/** Runs one step of reading a cube; its failure becomes a {@link CubeStepError}. */
async function cubeStep<T>(step: () => T | Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (error) {
    throw new CubeStepError(error);
  }
}

async function maskFor(hdrPath: string, reader: EnviReader): Promise<Uint8Array | undefined> {
  const maskPath = await findEnviMask(hdrPath);
  if (maskPath === undefined) return undefined;
  const mask = await readEnviMask(maskPath);
  const { lines, samples } = reader.header;
  if (mask.length !== lines * samples) {
    throw new EnviDataError(
      'bad_mask',
      maskPath,
      `ENVI mask ${maskPath} holds ${mask.length} pixels, but cube ${hdrPath} has ${lines}x${samples} = ${lines * samples}`,
    );
  }
  return mask;
}

/**
 * Replays ENVI cubes from disk as a {@link CameraSource}, one frame id per cube pass.
 *
 * `frames` is cold: reading starts on subscribe, one block at a time, and the next block is
 * read only after the previous one was delivered (a slow synchronous consumer slows the
 * replay, nothing piles up); without `linesPerSecond`, `demand()` (when given) is awaited before
 * each block, so that an asynchronous consumer sets the pace too; with it, a block's lines
 * arrive at their times as from a line-scan camera, the rows in so far published on `rows`
 * ({@link RowsReady}: the block's buffer, which its frame then carries), and the block is
 * emitted with its last line. Block buffers are lent from a pool: a consumer done with a block
 * calls its `release` so that a later block reuses the buffer. Blocks carry
 * `rowOffset`/`totalRows`, the header's wavelengths
 * (band indices when unknown), `capturedAt` = emission time, and `labels` from the cube's mask
 * (`<base>_mask.hdr`, or `mask.hdr` in its folder) when there is one. Frame ids increase across
 * cubes and loops. The open file closes on completion, error and unsubscribe, before `state`
 * becomes `ended` or `error`. A cube that cannot be replayed (missing or truncated data file…)
 * goes to `onReject` and is skipped, or, without `onReject`, to the error channel. With
 * several subscriptions `state` follows the latest change.
 *
 * @throws {@link OptionError} at call time for a bad option
 * @example
 * ```ts
 * const camera = enviReplay({ path: '/data/scenes/abu-beach-1/cube.hdr', blockRows: 16 });
 * camera.frames.subscribe((block) => console.log(block.frameId, block.rowOffset, block.labels?.length));
 * ```
 */
export function enviReplay(options: EnviReplayOptions): CameraSource {
  checkOptions(options);
  const {
    path,
    blockRows,
    linesPerSecond,
    loop = false,
    cameraId = DEFAULT_CAMERA_ID,
    maxValues,
    demand,
    onReject,
  } = options;
  const status = createSourceState();
  const progress = new Subject<RowsReady>();
  const buffers = new FrameBufferPool();

  const frames = new Observable<CubeFrame>((subscriber) => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let wake: (() => void) | undefined;
    const sleep = (ms: number) =>
      new Promise<void>((resolve) => {
        wake = resolve;
        timer = setTimeout(resolve, ms);
      });
    status.set('starting');

    const replay = async (): Promise<void> => {
      const cubes = await listEnviCubes(path);
      const masks = new Map<string, Uint8Array | undefined>();
      const started = performance.now();
      let frameId = 0;
      let linesDone = 0;
      do {
        let passBlocks = 0;
        const failures: CubeFailure[] = [];
        for (const hdrPath of cubes) {
          if (stopped) return;
          let cubeBlocks = 0;
          try {
            const reader = await cubeStep(() => openEnvi(hdrPath));
            try {
              const { lines, samples, bands } = reader.header;
              const rows = Math.min(blockRows ?? lines, lines);
              await cubeStep(() => validateGeometry(rows, samples, bands, maxValues));
              if (!masks.has(hdrPath)) masks.set(hdrPath, await cubeStep(() => maskFor(hdrPath, reader)));
              const mask = masks.get(hdrPath);
              for (let start = 0; start < lines && !stopped; start += rows) {
                const height = Math.min(rows, lines - start);
                const lease = buffers.lend(height * samples * bands);
                const data = await cubeStep(() => reader.readRows(start, height, lease.data));
                const block = {
                  cameraId,
                  height,
                  width: samples,
                  bands,
                  wavelengths: reader.wavelengths,
                  wavelengthUnits: reader.wavelengthUnits,
                  data,
                  ...(reader.header.radiometry === undefined ? {} : { radiometry: reader.header.radiometry }),
                };
                if (linesPerSecond === undefined) {
                  await demand?.();
                } else {
                  // Paced like a line-scan camera: the block's lines arrive at their times, and
                  // the rows in so far are published (the block's buffer is the frame's data).
                  let published = 0;
                  for (;;) {
                    const arrived =
                      Math.floor(((performance.now() - started) * linesPerSecond) / 1000) - linesDone;
                    if (arrived >= height || stopped) break;
                    if (arrived > published) {
                      published = arrived;
                      progress.next({ ...block, rows: arrived });
                    }
                    const nextLine =
                      started + ((linesDone + Math.max(arrived, 0) + 1) * 1000) / linesPerSecond;
                    await sleep(Math.max(MIN_TICK_MS, nextLine - performance.now()));
                  }
                }
                if (stopped) return;
                const frame = await cubeStep(() =>
                  createFrame(
                    {
                      ...block,
                      frameId,
                      rowOffset: start,
                      totalRows: lines,
                      capturedAt: Date.now(),
                      release: lease.release,
                      ...(mask === undefined
                        ? {}
                        : { labels: mask.slice(start * samples, (start + height) * samples) }),
                    },
                    { checkFinite: false, ...(maxValues === undefined ? {} : { maxValues }) },
                  ),
                );
                status.set('running');
                subscriber.next(frame);
                cubeBlocks++;
                linesDone += height;
              }
            } finally {
              await reader.close();
            }
          } catch (error) {
            if (!(error instanceof CubeStepError)) throw error;
            if (onReject === undefined) throw error.reason;
            if (stopped) return;
            failures.push({ hdrPath, error: error.reason });
            onReject(await rejectedCube(hdrPath, cameraId, error.reason));
          }
          if (cubeBlocks > 0) {
            passBlocks += cubeBlocks;
            frameId++;
          }
        }
        // Every cube failed: end here rather than loop over nothing.
        if (passBlocks === 0 && failures.length > 0 && !stopped)
          throw new NoReadableCubeError(path, failures);
      } while (loop);
    };

    replay().then(
      () => {
        status.set('ended');
        subscriber.complete();
      },
      (error: unknown) => {
        if (stopped) {
          status.set('ended');
          return;
        }
        status.set('error');
        subscriber.error(error);
      },
    );

    return () => {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
      wake?.();
    };
  });

  return { frames, state: status.state, rows: progress.asObservable() };
}
