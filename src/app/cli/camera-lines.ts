import type { Subscription } from 'rxjs';
import { loadAravis } from '../../../connectors/sources/genicam/aravis-library.js';
import { genicamSource } from '../../../connectors/sources/genicam/genicam-source.js';
import type { GenicamSourceSettings } from '../../../connectors/sources/genicam/genicam-source-options.js';
import type { OpenedCamera } from '../../../connectors/sources/genicam/line-stream.js';
import { CubestreamError } from '../../core/errors.js';
import type { WavelengthUnits } from '../../core/frame.js';

/** No line from the camera for too long, or the capture ended before its lines (code `camera_capture`). */
export class CameraCaptureError extends CubestreamError {
  /** @param message - names the camera, the lines received and the limit */
  constructor(message: string, options?: { cause?: unknown }) {
    super('camera_capture', message, options);
  }
}

/** The line geometry and radiometry of the lines read. */
export interface CameraLineFormat {
  /** Pixels across a line. */
  readonly width: number;
  readonly bands: number;
  readonly wavelengths: Float32Array;
  readonly wavelengthUnits: WavelengthUnits;
  /** `reflectance` when the settings name references (`calibration`), else `counts`. */
  readonly radiometry: 'counts' | 'reflectance';
}

/** Options of {@link readCameraLines}. */
export interface CameraLinesOptions {
  /** The camera, its features, layout, wavelengths and references (`blockRows`, `maxBlocks` are ignored). */
  readonly settings: GenicamSourceSettings;
  /** Lines to read (lines lost on the way do not count). */
  readonly lines: number;
  /**
   * Each line received, in order: `row` is `[width * bands]` BIP (counts, or reflectance with
   * references), valid only during the call; `capturedAt` epoch ms; `index` from 0.
   */
  readonly onLine: (row: Float32Array, capturedAt: number, index: number, format: CameraLineFormat) => void;
  /** The camera opened (again after a loss), features set and read back. */
  readonly onOpened?: (camera: OpenedCamera, reconnected: boolean) => void;
  /** Not fatal: stale references, references of other settings, camera lost (retrying). */
  readonly onWarning?: (message: string) => void;
  /** Give up when no line arrived for this long (default 30 s): the camera is gone. */
  readonly idleTimeoutMs?: number;
}

/** Lines the camera sent that never arrived whole, by reason. */
export interface LostLines {
  /** Buffers that came back incomplete (missing packets, timeout, a full ring) or unreadable. */
  readonly incomplete: number;
  /** Block ids that never arrived. */
  readonly gap: number;
}

/** What {@link readCameraLines} read. */
export interface CameraLinesResult {
  /** The camera as read back at its last open. */
  readonly camera: OpenedCamera;
  readonly format: CameraLineFormat;
  /** Lines handed to `onLine` (the `lines` asked for). */
  readonly lines: number;
  readonly lost: LostLines;
  /** Times the camera was lost and opened again. */
  readonly reconnects: number;
}

/** Default of {@link CameraLinesOptions.idleTimeoutMs}. */
export const DEFAULT_IDLE_TIMEOUT_MS = 30_000;

/**
 * Opens a GenICam camera with `genicamSource` (features set and read back, wavelengths,
 * references and their warnings, reconnects), hands the next `lines` lines to `onLine` one by
 * one, and closes it. Lines lost on the way are counted, not handed on: `onLine` sees exactly
 * `lines` lines. Shared by `cubestream calibrate` and `capture`.
 *
 * @throws `AravisUnavailableError` without Aravis; `GenicamError` for a feature the camera
 *   refuses; `CameraGeometryError` for wavelengths or references that do not fit the camera;
 *   {@link CameraCaptureError} when no line arrives for `idleTimeoutMs`; whatever `onLine` throws
 * @example
 * ```ts
 * import { GenicamSourceSettingsSchema } from '../../../connectors/sources/genicam/genicam-source-options.js';
 * const settings = GenicamSourceSettingsSchema.parse({ camera: '127.0.0.1', features: { pixelFormat: 'Mono16' } });
 * const result = await readCameraLines({ settings, lines: 100, onLine: (row, at) => console.log(at, row[0]) });
 * result.lost.incomplete; // lines lost to missing packets
 * ```
 */
export async function readCameraLines(options: CameraLinesOptions): Promise<CameraLinesResult> {
  // Aravis is loaded on this thread before the acquisition worker starts: without it the
  // worker's first use of Aravis breaks GLib's type registration (as the service does it too).
  await loadAravis();
  return readLines(options);
}

function readLines(options: CameraLinesOptions): Promise<CameraLinesResult> {
  const { settings, lines, onLine, onOpened, onWarning } = options;
  const idleTimeoutMs = options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
  return new Promise<CameraLinesResult>((resolve, reject) => {
    let camera: OpenedCamera | undefined;
    let reconnects = 0;
    const lost = { incomplete: 0, gap: 0 };
    let received = 0;
    let format: CameraLineFormat | undefined;
    let subscription: Subscription | undefined;
    let settled = false;
    let idle: NodeJS.Timeout | undefined;

    const settle = (error?: unknown): void => {
      if (settled) return;
      settled = true;
      clearTimeout(idle);
      subscription?.unsubscribe();
      if (error !== undefined) reject(error);
      else if (camera === undefined || format === undefined) {
        reject(new CameraCaptureError(`camera ${settings.camera} ended before it sent a line`));
      } else resolve({ camera, format, lines: received, lost: { ...lost }, reconnects });
    };
    const armIdle = (): void => {
      clearTimeout(idle);
      idle = setTimeout(
        () =>
          settle(
            new CameraCaptureError(
              `no line from camera ${settings.camera} for ${idleTimeoutMs / 1000} s (after ${received} of ${lines} lines): is it running and reachable?`,
            ),
          ),
        idleTimeoutMs,
      );
    };

    const source = genicamSource({
      ...settings,
      blockRows: 1,
      maxBlocks: lines,
      onOpened: (opened, reconnected) => {
        camera = opened;
        if (reconnected) reconnects++;
        onOpened?.(opened, reconnected);
      },
      onDropped: (dropped) => {
        if (dropped.reason === 'gap') lost.gap += dropped.lines;
        else lost.incomplete += dropped.lines;
      },
      onConnectionIssue: ({ error, attempt, retryInMs }) =>
        onWarning?.(
          `camera ${settings.camera} unreachable (${error.message}); attempt ${attempt}, retrying in ${retryInMs} ms`,
        ),
      ...(onWarning === undefined ? {} : { onWarning }),
    });
    armIdle();
    subscription = source.frames.subscribe({
      next: (frame) => {
        try {
          format ??= {
            width: frame.width,
            bands: frame.bands,
            wavelengths: frame.wavelengths,
            wavelengthUnits: frame.wavelengthUnits,
            radiometry: frame.radiometry ?? 'counts',
          };
          const data = frame.data as Float32Array;
          onLine(data, frame.capturedAt, received, format);
          received++;
          armIdle();
        } catch (error) {
          settle(error);
        } finally {
          frame.release?.();
        }
      },
      error: (error: unknown) => settle(error),
      complete: () => settle(),
    });
    if (settled) subscription.unsubscribe();
  });
}
