/**
 * Lines from a GenICam camera, on the main thread, with acquisition off the event loop: a worker
 * thread owns the camera and its Aravis stream, copies each complete buffer into a slot of a
 * shared ring, pushes the buffer straight back to Aravis, and posts a small message; `onLine`
 * gets a view of the slot, which is handed back when `onLine` returns. No allocation per line but
 * that message (and its `RawLine`). When the main thread falls `buffers` lines behind, lines are
 * dropped in the worker (`onIncomplete` with status `ring_full`) rather than stalling Aravis.
 *
 * The camera lost (open fails, no buffer for `lostAfterMs` in free run, control lost): the session
 * is torn down and reopened with backoff, the features re-applied (`onLost`, then `onOpened(..., true)`).
 * A feature the camera refuses at the first open, or Aravis missing, is fatal (`onFatal`).
 */
import type { Worker } from 'node:worker_threads';
import { asError } from '../../../src/core/errors.js';
import { startWorker } from '../../../src/core/start-worker.js';
import { validateConfig } from '../../../src/core/validate.js';
import {
  type AcquisitionInit,
  type AcquisitionMessage,
  CONTROL_STOP,
  CONTROL_WORDS,
  type RingShare,
  SLOT_FREE,
  STATS_FIELDS,
} from './acquisition-protocol.js';
import type { GenicamFeatures } from './camera-features.js';
import { discoveryLockBuffer } from './discovery-lock.js';
import { genicamErrorFromWire } from './genicam-errors.js';
import { LineStreamSettingsSchema } from './line-stream-options.js';
import type { OpenedCamera } from './opened-camera.js';
import { pixelFormatName } from './pixel-format-codes.js';

export type { OpenedCamera } from './opened-camera.js';

/** One camera frame (one line of a push-broom camera), as the camera sent it. */
export interface RawLine {
  /** The camera buffer's payload bytes; valid ONLY during the onLine call (slot reused after). */
  readonly bytes: Uint8Array;
  readonly width: number;
  readonly height: number;
  readonly pixelFormat: string;
  /** GVSP block id (16-bit wrapping 65535 -> 1, or 64-bit extended ids). */
  readonly frameId: number;
  /** Camera clock, ns (arv_buffer_get_timestamp). */
  readonly deviceTimestampNs: bigint;
  /**
   * Epoch ms of this line on the camera clock anchored to the host clock at acquisition start
   * (first line: host time arv_buffer_get_system_timestamp; later lines: + device-clock delta).
   */
  readonly capturedAt: number;
}

/** What a line stream reports, all on the main thread. */
export interface LineStreamHandlers {
  onOpened(camera: OpenedCamera, reconnected: boolean): void;
  onLine(line: RawLine): void;
  /** A buffer that came back with status != SUCCESS (MISSING_PACKETS, TIMEOUT, ...): the line is lost. */
  onIncomplete(event: { readonly frameId: number; readonly status: string }): void;
  /** Block ids skipped between two buffers (modulo the 16-bit wrap, 0 invalid). */
  onGap(event: { readonly afterFrameId: number; readonly frameId: number; readonly missing: number }): void;
  /** Camera unreachable (open failed, or no buffer for lostAfterMs, or control lost); retries in retryInMs. */
  onLost(event: { readonly error: Error; readonly attempt: number; readonly retryInMs: number }): void;
  /** Fatal (bad feature value, Aravis unavailable): the stream has stopped. */
  onFatal(error: Error): void;
}

/** What to open and how. */
export interface LineStreamOptions {
  /** Aravis device id, IP address or serial. */
  readonly camera: string;
  readonly features: GenicamFeatures;
  /** Aravis buffers queued (default 32) = also ring slots. */
  readonly buffers?: number;
  /** No buffer for this long while acquiring = camera lost (default 3000). */
  readonly lostAfterMs?: number;
  /** Reconnect backoff (default 500 ms doubling to 5000 ms, jittered). */
  readonly backoff?: { initialMs?: number; maxMs?: number };
  /** ArvGvStream packet-resend (default true). */
  readonly packetResend?: boolean;
}

/** Counters of a line stream since it was opened (all sessions). */
export interface LineStreamStats {
  /** Lines handed to `onLine`. */
  lines: number;
  /** Lines lost as incomplete buffers or ring overflow (`onIncomplete` calls). */
  incomplete: number;
  /** Block ids never seen (sum of `onGap` `missing`). */
  gapLines: number;
  /** Successful reopens after a loss. */
  reconnects: number;
  /** Aravis's stream statistics, summed over sessions. */
  aravis: { completed: number; failures: number; underruns: number; resent: number; missingPackets: number };
}

/** A running line stream. */
export interface LineStream {
  stats(): LineStreamStats;
  /** Stops acquisition, releases the camera and ends the worker; resolves when done. Idempotent. */
  close(): Promise<void>;
}

/** How long close() waits for the worker to release the camera before terminating it, in ms. */
const CLOSE_GRACE_MS = 15_000;

interface MainRing {
  readonly share: RingShare;
  readonly views: Uint8Array[];
  readonly states: Int32Array;
}

class WorkerLineStream implements LineStream {
  private readonly worker: Worker;
  private readonly control = new Int32Array(
    new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT * CONTROL_WORDS),
  );
  private readonly aravisStats = new Float64Array(
    new SharedArrayBuffer(Float64Array.BYTES_PER_ELEMENT * STATS_FIELDS.length),
  );
  private readonly counts = { lines: 0, incomplete: 0, gapLines: 0, reconnects: 0 };
  private ring: MainRing | undefined;
  private camera: OpenedCamera | undefined;
  private closing: Promise<void> | undefined;
  private finished = false;
  private resolveClosed: () => void = () => {};
  private readonly closedByWorker = new Promise<void>((resolve) => {
    this.resolveClosed = resolve;
  });

  constructor(
    options: LineStreamOptions,
    private readonly handlers: LineStreamHandlers,
  ) {
    const settings = validateConfig(
      LineStreamSettingsSchema,
      {
        buffers: options.buffers,
        lostAfterMs: options.lostAfterMs,
        backoff: options.backoff === undefined ? undefined : { ...options.backoff },
        packetResend: options.packetResend,
      },
      'genicam line stream',
    );
    this.worker = startWorker(import.meta.url, 'acquisition-worker');
    this.worker.on('message', (message: AcquisitionMessage) => this.receive(message));
    this.worker.on('error', (error) => this.fail(error));
    this.worker.on('exit', (code) => {
      this.resolveClosed();
      if (this.closing === undefined)
        this.fail(new Error(`genicam acquisition worker exited (code ${code})`));
    });
    const init: AcquisitionInit = {
      camera: options.camera,
      features: options.features,
      settings,
      control: this.control.buffer as SharedArrayBuffer,
      stats: this.aravisStats.buffer as SharedArrayBuffer,
      discoveryLock: discoveryLockBuffer(),
    };
    this.worker.postMessage(init);
  }

  stats(): LineStreamStats {
    const s = this.aravisStats;
    return {
      ...this.counts,
      aravis: {
        completed: s[0] ?? 0,
        failures: s[1] ?? 0,
        underruns: s[2] ?? 0,
        resent: s[3] ?? 0,
        missingPackets: s[4] ?? 0,
      },
    };
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    Atomics.store(this.control, CONTROL_STOP, 1);
    Atomics.notify(this.control, CONTROL_STOP);
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, CLOSE_GRACE_MS);
    });
    await Promise.race([this.closedByWorker, grace]);
    clearTimeout(timer);
    await this.worker.terminate();
  }

  private receive(message: AcquisitionMessage): void {
    if (message.t === 'closed') {
      this.resolveClosed();
      return;
    }
    if (this.closing !== undefined || this.finished) {
      if (message.t === 'line' && this.ring !== undefined)
        Atomics.store(this.ring.states, message.slot, SLOT_FREE);
      return;
    }
    try {
      this.dispatch(message);
    } catch (error) {
      // A handler threw: the stream stops rather than leave the camera running unwatched.
      this.fail(asError(error));
    }
  }

  private dispatch(message: Exclude<AcquisitionMessage, { t: 'closed' }>): void {
    switch (message.t) {
      case 'line':
        this.line(message);
        return;
      case 'opened':
        this.ring = mainRing(message.ring, this.ring);
        this.camera = message.camera;
        if (message.reconnected) this.counts.reconnects++;
        this.handlers.onOpened(message.camera, message.reconnected);
        return;
      case 'incomplete':
        this.counts.incomplete++;
        this.handlers.onIncomplete({ frameId: message.frameId, status: message.status });
        return;
      case 'gap':
        this.counts.gapLines += message.missing;
        this.handlers.onGap({
          afterFrameId: message.afterFrameId,
          frameId: message.frameId,
          missing: message.missing,
        });
        return;
      case 'lost':
        this.handlers.onLost({
          error: genicamErrorFromWire(message.error),
          attempt: message.attempt,
          retryInMs: message.retryInMs,
        });
        return;
      case 'fatal':
        this.fail(genicamErrorFromWire(message.error));
        return;
    }
  }

  private line(message: Extract<AcquisitionMessage, { t: 'line' }>): void {
    const ring = this.ring;
    const view = ring?.views[message.slot];
    if (ring === undefined || view === undefined) return;
    try {
      this.counts.lines++;
      this.handlers.onLine({
        bytes: message.bytes === view.byteLength ? view : view.subarray(0, message.bytes),
        width: message.width,
        height: message.height,
        pixelFormat: pixelFormatName(message.pixelFormat, this.camera?.pixelFormat),
        frameId: message.frameId,
        deviceTimestampNs: message.deviceTimestampNs,
        capturedAt: message.capturedAt,
      });
    } finally {
      Atomics.store(ring.states, message.slot, SLOT_FREE);
    }
  }

  /** Reports a fatal error once and closes. */
  private fail(error: Error): void {
    if (this.finished || this.closing !== undefined) return;
    this.finished = true;
    void this.close();
    this.handlers.onFatal(error);
  }
}

function mainRing(share: RingShare, previous: MainRing | undefined): MainRing {
  if (previous !== undefined && previous.share.data === share.data) return previous;
  return {
    share,
    views: Array.from(
      { length: share.slots },
      (_, i) => new Uint8Array(share.data, i * share.slotBytes, share.slotBytes),
    ),
    states: new Int32Array(share.states),
  };
}

/**
 * Opens a camera and streams its lines to `handlers` (see the module comment for the threading,
 * loss and reconnect rules). Returns at once; `onOpened` follows when the camera is open.
 *
 * Load Aravis on the main thread first (`await loadAravis()`; the service's `createSource` and the CLI's
 * camera commands do): in a fresh process whose main thread had not loaded it, the worker was
 * seen failing GLib's type registration (`cannot register existing type 'ArvInterface'`) and
 * delivering no line.
 *
 * @throws {@link ConfigError} when `buffers`, `lostAfterMs` or `backoff` is out of range
 * @example
 * ```ts
 * const stream = openLineStream(
 *   { camera: '127.0.0.1', features: { width: 1024, height: 224, pixelFormat: 'Mono16', frameRate: 300 } },
 *   {
 *     onOpened: (camera) => console.log('opened', camera.id, camera.features),
 *     onLine: (line) => console.log(line.frameId, line.bytes.byteLength),
 *     onIncomplete: ({ frameId, status }) => console.warn('lost line', frameId, status),
 *     onGap: ({ missing }) => console.warn('missing lines', missing),
 *     onLost: ({ error, retryInMs }) => console.warn(error.message, 'retry in', retryInMs),
 *     onFatal: (error) => console.error(error.message),
 *   },
 * );
 * await stream.close();
 * ```
 */
export function openLineStream(options: LineStreamOptions, handlers: LineStreamHandlers): LineStream {
  return new WorkerLineStream(options, handlers);
}
