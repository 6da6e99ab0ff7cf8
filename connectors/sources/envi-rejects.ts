/**
 * What `enviReplay` does with a cube it cannot replay (missing or truncated data file, bad
 * header or mask, a block over `maxValues`, a read that fails): it is reported as a
 * {@link RejectedMessage}, the same record a broker source hands `onReject` for a bad message, so
 * that the service counts it in `frames_rejected_total{camera,reason}` and dead-letters it.
 */
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { CubestreamError } from '../../src/core/errors.js';
import { InvalidFrameError } from '../../src/core/frame.js';
import { EnviDataError, EnviHeaderError } from '../../src/io/envi/errors.js';
import { MAX_CHANNEL_CHARS, type RejectedMessage } from './broker-frame-source.js';

/** A cube that failed, as kept for {@link NoReadableCubeError}. */
export interface CubeFailure {
  /** The cube's header. */
  readonly hdrPath: string;
  /** What went wrong. */
  readonly error: unknown;
}

/**
 * Every cube of a replay pass failed, so there is nothing to replay (and, with `loop`, nothing
 * to loop over). The message lists each cube and its problem; `cause` is the first cube's error.
 */
export class NoReadableCubeError extends CubestreamError {
  /** Each cube of the pass with its error, in replay order. */
  readonly failures: readonly CubeFailure[];

  /**
   * @param path - the replayed path (a header or a folder)
   * @param failures - every cube of the pass and why it failed (at least one)
   */
  constructor(path: string, failures: readonly CubeFailure[]) {
    const listed = failures
      .slice(0, 5)
      .map((f) => `${f.hdrPath}: ${f.error instanceof Error ? f.error.message : String(f.error)}`)
      .join('; ');
    const more = failures.length > 5 ? `; and ${failures.length - 5} more` : '';
    super(
      'no_readable_cube',
      `enviReplay: none of the ${failures.length} cube(s) at ${path} could be replayed (${listed}${more})`,
      { cause: failures[0]?.error },
    );
    this.failures = failures;
  }
}

/** The path for a {@link RejectedMessage}: at most {@link MAX_CHANNEL_CHARS}, keeping its end. */
function channelOf(path: string): string {
  return path.length > MAX_CHANNEL_CHARS ? `...${path.slice(-(MAX_CHANNEL_CHARS - 3))}` : path;
}

/** Size of the file an error is about (the data file, else the header), 0 when unknown. */
async function bytesOf(hdrPath: string, error: unknown): Promise<number> {
  const file = error instanceof EnviDataError || error instanceof EnviHeaderError ? error.file : hdrPath;
  try {
    return (await stat(file)).size;
  } catch {
    return 0;
  }
}

/**
 * The {@link RejectedMessage} of a cube that cannot be replayed: an {@link InvalidFrameError}
 * (reason `decode`, or the frame error's own reason, e.g. `size` for a block over `maxValues`)
 * whose message names the header and the problem; `channel` is the header's path.
 *
 * @example
 * ```ts
 * import { EnviDataError } from 'cubestream/io';
 * const truncated = new EnviDataError('truncated', 'scans/b.img', 'ENVI data file scans/b.img is truncated: ...');
 * const rejected = await rejectedCube('scans/b.hdr', 'line3', truncated);
 * // rejected.error.message: 'invalid frame: file = "b.hdr": cube scans/b.hdr skipped: ENVI data file scans/b.img is truncated: ...'
 * ```
 */
export async function rejectedCube(
  hdrPath: string,
  cameraId: string,
  error: unknown,
): Promise<RejectedMessage> {
  const problem = error instanceof Error ? error.message : String(error);
  const invalid = new InvalidFrameError(
    error instanceof InvalidFrameError ? error.code : 'decode',
    'file',
    basename(hdrPath),
    `cube ${hdrPath} skipped: ${problem}`,
    { cause: error },
  );
  return { error: invalid, cameraId, channel: channelOf(hdrPath), bytes: await bytesOf(hdrPath, error) };
}
