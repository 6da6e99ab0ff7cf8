/**
 * A GenICam line-scan camera (GigE Vision, USB3 Vision) read through Aravis as a
 * {@link CameraSource}: each camera frame is one line of the belt; lines become rows of blocks.
 */
import { Observable, Subject } from 'rxjs';
import type { SourceDropReason } from '../../../src/core/drop-reasons.js';
import { type CubeFrame, InvalidFrameError } from '../../../src/core/frame.js';
import { FrameBufferPool } from '../../../src/core/frame-buffer-pool.js';
import type { RowsReady } from '../../../src/core/rows-ready.js';
import { validateConfig } from '../../../src/core/validate.js';
import { type CameraSource, type ConnectionIssue, createSourceState } from '../source-state.js';
import {
  type GenicamSourceSettings,
  type GenicamSourceSettingsInput,
  GenicamSourceSettingsSchema,
} from './genicam-source-options.js';
import {
  type Calibration,
  calibrationWarnings,
  loadCalibration,
  resolveWavelengths,
} from './genicam-source-setup.js';
import { LineBlockBuilder, prefaultBlocks, warmLinePath } from './line-block-builder.js';
import {
  type LineStream,
  type LineStreamHandlers,
  type LineStreamStats,
  type OpenedCamera,
  openLineStream,
} from './line-stream.js';

/** Camera lines that never made a block. */
export interface DroppedLines {
  /** The source's camera id. */
  readonly cameraId: string;
  /** `incomplete`: a buffer came back incomplete or unreadable; `gap`: frame ids never arrived. */
  readonly reason: SourceDropReason;
  /** Lines lost (1 for `incomplete`). */
  readonly lines: number;
  /** The camera's frame (block) id of the lost line, or of the first line after the gap. */
  readonly frameId: number;
  /** `gap`: the last id that arrived before it. */
  readonly afterFrameId?: number;
  /** `incomplete`: the Aravis buffer status (`MISSING_PACKETS`, `TIMEOUT`, `ring_full`, …) or the reject reason. */
  readonly status?: string;
  /** A line that arrived but could not be read (a payload of the wrong size). */
  readonly error?: Error;
  /**
   * Where the lost lines belong: the id of the block being filled (the `frameId` its decision
   * will carry) and the rows it held when they were lost. Lines lost there passed the camera
   * unseen: the service gives that block's place an `unknown` verdict (one per block).
   */
  readonly block: { readonly frameId: number; readonly row: number };
}

/** What the GenICam source reports besides frames; the service logs and counts them. */
export interface GenicamSourceHooks {
  /** The camera opened (again, after a loss, when `reconnected`), its features set and read back. */
  readonly onOpened?: (camera: OpenedCamera, reconnected: boolean) => void;
  /** Lines lost before they made a block (`frames_dropped_total{reason}`). */
  readonly onDropped?: (dropped: DroppedLines) => void;
  /** The camera could not be opened or was lost; the source retries after `retryInMs`. */
  readonly onConnectionIssue?: (issue: ConnectionIssue) => void;
  /** Worth an operator's attention, never fatal: stale references or references taken at other settings. */
  readonly onWarning?: (message: string) => void;
}

/** Options of {@link genicamSource}: the settings (`GenicamSourceSettingsSchema`) and the hooks. */
export type GenicamSourceOptions = GenicamSourceSettingsInput & GenicamSourceHooks;

/** A {@link CameraSource} on a GenICam camera, with the acquisition's counters. */
export interface GenicamCameraSource extends CameraSource {
  readonly rows: Observable<RowsReady>;
  /** Counters of the latest acquisition (lines, incomplete, gaps, reconnects, Aravis's); undefined before the first. */
  stats(): LineStreamStats | undefined;
}

/** Wavelengths and references, read before the camera opens. */
interface Prepared {
  readonly builder: LineBlockBuilder;
  readonly calibration: Calibration | undefined;
}

async function prepare(
  settings: GenicamSourceSettings,
  pool: FrameBufferPool,
  rows: Subject<RowsReady>,
): Promise<Prepared> {
  const wavelengths = await resolveWavelengths(settings.wavelengths);
  const calibration =
    settings.calibration === undefined ? undefined : await loadCalibration(settings.calibration);
  const builder = new LineBlockBuilder({
    cameraId: settings.cameraId,
    layout: settings.lineLayout,
    blockRows: settings.blockRows,
    pool,
    onRows: (progress) => rows.next(progress),
    ...(wavelengths === undefined ? {} : { wavelengths }),
    ...(calibration === undefined ? {} : { gains: calibration.gains }),
  });
  prefaultBlocks(pool, settings.features, { layout: settings.lineLayout, blockRows: settings.blockRows });
  await warmLinePath(settings.features, {
    layout: settings.lineLayout,
    ...(calibration === undefined ? {} : { gains: calibration.gains }),
  });
  return { builder, calibration };
}

/**
 * A GenICam line-scan camera as a {@link CameraSource}, through Aravis (`openLineStream`: the
 * acquisition runs on a worker thread, off the event loop).
 *
 * On subscribe the source reads the wavelengths (a list, or an ENVI header) and the references
 * (`calibration`), opens the camera, sets `features` and reads them back (`onOpened`), checks
 * the camera's image against the bands (`lineLayout`, wavelengths, references: a mismatch fails
 * the stream, naming both), warns about stale references or references taken at other settings
 * (`onWarning`), and goes `running`. Each line is unpacked (Mono8, Mono10, Mono12,
 * Mono12Packed, Mono12p, Mono16), written as the next row of the block being filled (a buffer
 * lent from a pool, released by the block's last holder), converted to reflectance with
 * references, and published on `rows` so that a scorer scores rows while the block is still
 * being captured; the block's last line emits it ({@link LineBlockBuilder} describes the frame's
 * fields). Lines lost on the way (incomplete buffers, ids never received, unreadable payloads)
 * are reported to `onDropped` and left out: a block holds the next `blockRows` lines that arrived.
 *
 * A camera that cannot be reached, or sends nothing for `lostAfterMs`, makes the source
 * `disconnected` (`onConnectionIssue`, with the attempt and the backoff) while it reconnects,
 * re-applies the features and resumes (`running`, `onOpened(camera, true)`). A fatal error
 * (Aravis or koffi missing, a feature the camera refuses at the first open, a geometry
 * mismatch) ends `frames` with that error (`error`). With `maxBlocks` the camera is closed after
 * that many blocks and `frames` completes (`ended`). Unsubscribing closes the camera. `frames`
 * opens the camera on each subscription: subscribe once.
 *
 * @throws `ConfigError` at call time for bad settings, each named by its path
 * @example
 * ```ts
 * const camera = genicamSource({
 *   camera: '127.0.0.1', cameraId: 'line1', blockRows: 32,
 *   features: { width: 1024, height: 224, pixelFormat: 'Mono16', frameRate: 100 },
 *   onDropped: (d) => console.warn(d.reason, d.lines),
 * });
 * camera.frames.subscribe((block) => console.log(block.frameId, block.capturedAt));
 * ```
 */
export function genicamSource(options: GenicamSourceOptions): GenicamCameraSource {
  const { onOpened, onDropped, onConnectionIssue, onWarning, ...given } = options;
  const settings = validateConfig(GenicamSourceSettingsSchema, given, 'source (kind genicam)');
  const { cameraId, maxBlocks } = settings;
  const status = createSourceState();
  const rows = new Subject<RowsReady>();
  const pool = new FrameBufferPool();
  let current: LineStream | undefined;

  const frames = new Observable<CubeFrame>((subscriber) => {
    let stream: LineStream | undefined;
    let prepared: Prepared | undefined;
    let done = false;
    const stop = (): Promise<void> => {
      prepared?.builder.discard();
      const closing = stream;
      stream = undefined;
      return closing?.close() ?? Promise.resolve();
    };
    // Ends this subscription: `error` with an error, else `ended`; the camera is closed first.
    const finish = (error?: unknown): void => {
      if (done) return;
      done = true;
      status.set(error === undefined ? 'ended' : 'error');
      void stop()
        .catch(() => undefined)
        .finally(() => (error === undefined ? subscriber.complete() : subscriber.error(error)));
    };
    const dropped = (event: Omit<DroppedLines, 'cameraId' | 'block'>): void => {
      if (done || prepared === undefined) return;
      const { builder } = prepared;
      onDropped?.({ cameraId, ...event, block: { frameId: builder.blocks, row: builder.pendingLines } });
    };

    const handlers: LineStreamHandlers = {
      onOpened: (camera, reconnected) => {
        if (done || prepared === undefined) return;
        try {
          prepared.builder.open(camera);
        } catch (error) {
          finish(error);
          return;
        }
        const { calibration } = prepared;
        if (!reconnected && calibration !== undefined) {
          const { id, vendor, model, serial } = camera;
          const now = { camera: { id, vendor, model, serial }, features: camera.features };
          for (const warning of calibrationWarnings(calibration, now, settings.maxCalibrationAgeHours))
            onWarning?.(warning);
        }
        status.set('running');
        onOpened?.(camera, reconnected);
      },
      onLine: (line) => {
        if (done || prepared === undefined) return;
        let block: CubeFrame | undefined;
        try {
          block = prepared.builder.add(line);
        } catch (error) {
          if (!(error instanceof InvalidFrameError)) {
            finish(error);
            return;
          }
          dropped({ reason: 'incomplete', lines: 1, frameId: line.frameId, status: error.code, error });
          return;
        }
        if (block === undefined) return;
        subscriber.next(block);
        if (!done && maxBlocks !== undefined && prepared.builder.blocks >= maxBlocks) finish();
      },
      onIncomplete: ({ frameId, status: bufferStatus }) =>
        dropped({ reason: 'incomplete', lines: 1, frameId, status: bufferStatus }),
      onGap: ({ afterFrameId, frameId, missing }) =>
        dropped({ reason: 'gap', lines: missing, frameId, afterFrameId }),
      onLost: ({ error, attempt, retryInMs }) => {
        if (done) return;
        status.set('disconnected');
        onConnectionIssue?.({ error, attempt, retryInMs });
      },
      onFatal: (error) => finish(error),
    };

    prepare(settings, pool, rows).then(
      (ready) => {
        if (done) return;
        prepared = ready;
        try {
          stream = openLineStream(
            {
              camera: settings.camera,
              features: settings.features,
              buffers: settings.buffers,
              lostAfterMs: settings.lostAfterMs,
              packetResend: settings.packetResend,
              backoff: settings.backoff,
            },
            handlers,
          );
          current = stream;
        } catch (error) {
          finish(error);
        }
      },
      (error: unknown) => finish(error),
    );

    return () => {
      if (!done) {
        done = true;
        status.set('ended');
      }
      void stop().catch(() => undefined);
    };
  });

  return {
    frames,
    state: status.state,
    rows: rows.asObservable(),
    stats: () => current?.stats(),
  };
}
