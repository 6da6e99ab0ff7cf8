/**
 * Aravis's own C client, `arv-camera-test-0.8`, as the yardstick of the `genicam` bench: it opens
 * a camera, sets the image and the frame rate, streams for a while and prints the frames it
 * completed each second, then its stream statistics.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { CubestreamError } from '../src/core/errors.js';
import { ARAVIS_CAMERA_TEST_BIN } from '../test/helpers/fake-gv-camera.js';

/** What `arv-camera-test-0.8` printed, parsed. */
export interface AravisCameraTestReport {
  /** Frames completed in each second, in order (`N frames/s - M MiB/s` lines). */
  readonly perSecond: readonly number[];
  /** Mean of {@link AravisCameraTestReport.perSecond} without the first second (stream start), or the one second there is. */
  readonly framesPerSecond: number;
  /** `n_completed_buffers`. */
  readonly completed: number;
  /** `n_failures`: buffers that came back incomplete (missing packets, timeouts). */
  readonly failures: number;
  /** `n_missing_frames`: block ids never seen. */
  readonly missingFrames: number;
  /** `payload` in bytes: the image as the camera sends it (shows whether the pixel format was set). */
  readonly payloadBytes: number;
}

/** `arv-camera-test-0.8` ended badly, or printed no frame rate (code `aravis-camera-test`). */
export class AravisCameraTestError extends CubestreamError {
  /** @param message - what the tool did and the tail of what it printed */
  constructor(message: string) {
    super('aravis-camera-test', message);
  }
}

function statistic(output: string, name: string): number {
  const match = new RegExp(`^${name}\\s*=\\s*(\\d+)`, 'm').exec(output);
  return match === null ? 0 : Number(match[1]);
}

/**
 * Parses what `arv-camera-test-0.8` printed to stdout.
 *
 * @throws {@link AravisCameraTestError} when no `frames/s` line is there
 * @example
 * ```ts
 * const report = parseAravisCameraTest('314 frames/s -     144 MiB/s\n330 frames/s -     151 MiB/s\nn_completed_buffers    = 644\n');
 * report.framesPerSecond; // 330
 * ```
 */
export function parseAravisCameraTest(output: string): AravisCameraTestReport {
  const perSecond = [...output.matchAll(/^\s*(\d+) frames\/s\b/gm)].map((m) => Number(m[1]));
  if (perSecond.length === 0) {
    throw new AravisCameraTestError(
      `arv-camera-test-0.8 printed no "N frames/s" line: ${JSON.stringify(output.slice(-600))}`,
    );
  }
  const steady = perSecond.length > 1 ? perSecond.slice(1) : perSecond;
  return {
    perSecond,
    framesPerSecond: steady.reduce((sum, n) => sum + n, 0) / steady.length,
    completed: statistic(output, 'n_completed_buffers'),
    failures: statistic(output, 'n_failures'),
    missingFrames: statistic(output, 'n_missing_frames'),
    payloadBytes: statistic(output, 'payload'),
  };
}

/** Settings of {@link runAravisCameraTest}: the camera and its image, as the bench's own source gets them. */
export interface AravisCameraTestOptions {
  /** Camera name: Aravis device id or IP address. */
  readonly camera: string;
  readonly width: number;
  readonly height: number;
  readonly pixelFormat: string;
  /** `AcquisitionFrameRate` asked for (Hz). */
  readonly frameRate: number;
  /** Whole seconds to stream; one more is added and its first second left out of the mean. */
  readonly seconds: number;
  /** `GevSCPSPacketSize` in bytes (`-i`); absent: the camera's. */
  readonly packetSize?: number;
}

/** Seconds past the streaming time before the tool is killed as hung. */
const GRACE_SECONDS = 20;

/**
 * Runs `arv-camera-test-0.8 -n CAMERA -w W -h H -f RATE -a --features PixelFormat=F --duration S+1 [-i PACKET]`
 * (`-a`: socket buffer sized to a frame, as the genicam source sets it) and parses its report.
 *
 * @throws {@link AravisCameraTestError} when it cannot start, exits non-zero, hangs, or reports no rate
 * @example
 * ```ts
 * const aravis = await runAravisCameraTest({ camera: '127.0.0.1', width: 1024, height: 224, pixelFormat: 'Mono16', frameRate: 330, seconds: 10 });
 * console.log(aravis.framesPerSecond);
 * ```
 */
export async function runAravisCameraTest(options: AravisCameraTestOptions): Promise<AravisCameraTestReport> {
  const seconds = Math.max(1, Math.ceil(options.seconds)) + 1;
  const args = [
    '-n',
    options.camera,
    '-w',
    String(options.width),
    '-h',
    String(options.height),
    '-f',
    String(options.frameRate),
    '-a',
    '--features',
    `PixelFormat=${options.pixelFormat}`,
    '--duration',
    String(seconds),
    ...(options.packetSize === undefined ? [] : ['-i', String(options.packetSize)]),
  ];
  const child = spawn(ARAVIS_CAMERA_TEST_BIN, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => {
    output += text;
  });
  child.stderr.setEncoding('utf8').on('data', (text: string) => {
    output += text;
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), (seconds + GRACE_SECONDS) * 1000);
  try {
    const [code, signal] = (await Promise.race([
      once(child, 'exit'),
      once(child, 'error').then(([error]) => {
        throw new AravisCameraTestError(
          `${ARAVIS_CAMERA_TEST_BIN} did not start: ${(error as Error).message} (Debian: apt-get install aravis-tools)`,
        );
      }),
    ])) as [number | null, NodeJS.Signals | null];
    if (code !== 0) {
      throw new AravisCameraTestError(
        `${ARAVIS_CAMERA_TEST_BIN} ${args.join(' ')} ended with ${signal ?? `exit code ${code}`}: ${JSON.stringify(output.slice(-600))}`,
      );
    }
  } finally {
    clearTimeout(timer);
  }
  return parseAravisCameraTest(output);
}
