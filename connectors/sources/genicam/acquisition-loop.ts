/**
 * The acquisition worker's loop: open a session, hand each buffer's line to the main thread
 * through the shared ring, watch for camera loss, and reconnect with backoff (features
 * re-applied) until the main thread sets the stop flag. Runs synchronously on the worker's
 * thread, blocking in `arv_stream_timeout_pop_buffer` for at most {@link POP_TIMEOUT_MS}.
 */
import { backoffDelay } from '../../shared/backoff.js';
import {
  type AcquisitionInit,
  type AcquisitionMessage,
  CONTROL_STOP,
  type RingShare,
  SLOT_FILLED,
  SLOT_FREE,
} from './acquisition-protocol.js';
import { type AravisLibrary, BUFFER_STATUS_NAMES, type NumberSlot, type Pointer } from './aravis-library.js';
import { CameraSession, SessionOpenError, type SessionStatistics } from './camera-session.js';
import { framesMissing, newestFrameId } from './frame-id-gap.js';
import { GenicamError, genicamErrorToWire } from './genicam-errors.js';
import { POP_TIMEOUT_MS } from './line-stream-options.js';

/** Health checks and statistics at most this often while buffers flow, in ms. */
const CHECK_EVERY_MS = 250;
/** Camera clock and host clock apart by more than this: re-anchor (the camera's clock jumped). */
const REANCHOR_AFTER_MS = 1000;
/** `ArvDeviceError` TIMEOUT. */
const DEVICE_TIMEOUT = 5;

interface Ring {
  readonly share: RingShare;
  readonly views: Uint8Array[];
  readonly states: Int32Array;
  next: number;
}

function makeRing(slotBytes: number, slots: number): Ring {
  const share: RingShare = {
    data: new SharedArrayBuffer(slotBytes * slots),
    states: new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT * slots),
    slotBytes,
    slots,
  };
  const views = Array.from({ length: slots }, (_, i) => new Uint8Array(share.data, i * slotBytes, slotBytes));
  return { share, views, states: new Int32Array(share.states), next: 0 };
}

/** Where a session's line timestamps are anchored: host time and camera time of its first line. */
interface ClockAnchor {
  hostNs: bigint;
  deviceNs: bigint;
}

/** Runs acquisition for one line stream until stopped; posts everything through `post`. */
export class AcquisitionLoop {
  private readonly control: Int32Array;
  private readonly stats: Float64Array;
  /** Statistics of the sessions already closed. */
  private readonly base: SessionStatistics = {
    completed: 0,
    failures: 0,
    underruns: 0,
    resent: 0,
    missingPackets: 0,
  };
  private ring: Ring | undefined;
  private readonly size: NumberSlot = [0];

  /**
   * @param aravis - the loaded library
   * @param init - what to open, the settings, and the shared memory
   * @param post - sends a message to the main thread
   */
  constructor(
    private readonly aravis: AravisLibrary,
    private readonly init: AcquisitionInit,
    private readonly post: (message: AcquisitionMessage) => void,
  ) {
    this.control = new Int32Array(init.control);
    this.stats = new Float64Array(init.stats);
  }

  private stopped(): boolean {
    return Atomics.load(this.control, CONTROL_STOP) !== 0;
  }

  /** Waits `ms` unless stopped meanwhile. */
  private pause(ms: number): void {
    if (!this.stopped()) Atomics.wait(this.control, CONTROL_STOP, 0, ms);
  }

  /** Opens, streams, reconnects; returns once stopped, or after a fatal error (posted). */
  run(): void {
    const { settings } = this.init;
    let everOpened = false;
    let failures = 0;
    while (!this.stopped()) {
      let session: CameraSession;
      try {
        session = CameraSession.open(this.aravis, {
          camera: this.init.camera,
          features: this.init.features,
          buffers: settings.buffers,
          packetResend: settings.packetResend,
        });
      } catch (error) {
        if (isFatal(error, everOpened)) {
          this.post({
            t: 'fatal',
            error: genicamErrorToWire(error instanceof SessionOpenError ? error.cause : error),
          });
          return;
        }
        failures = this.lost(error instanceof SessionOpenError ? error.cause : error, failures);
        continue;
      }
      const ring = this.ringFor(session.info.payloadBytes);
      this.post({ t: 'opened', camera: session.info, reconnected: everOpened, ring: ring.share });
      everOpened = true;
      failures = 0;
      let loss: Error | undefined;
      try {
        loss = this.stream(session, ring);
      } finally {
        this.addStatistics(session.statistics(), true);
        session.close();
      }
      if (loss !== undefined) failures = this.lost(loss, failures);
    }
  }

  /** Posts a loss, waits the backoff; returns the new count of consecutive failures. */
  private lost(error: unknown, failures: number): number {
    const retryInMs = backoffDelay(failures, this.init.settings.backoff);
    this.post({ t: 'lost', error: genicamErrorToWire(error), attempt: failures + 1, retryInMs });
    this.pause(retryInMs);
    return failures + 1;
  }

  private ringFor(payloadBytes: number): Ring {
    const slots = this.init.settings.buffers;
    if (
      this.ring === undefined ||
      this.ring.share.slotBytes < payloadBytes ||
      this.ring.share.slots !== slots
    )
      this.ring = makeRing(payloadBytes, slots);
    return this.ring;
  }

  private addStatistics(current: SessionStatistics, final: boolean): void {
    const b = this.base;
    const s = this.stats;
    s[0] = b.completed + current.completed;
    s[1] = b.failures + current.failures;
    s[2] = b.underruns + current.underruns;
    s[3] = b.resent + current.resent;
    s[4] = b.missingPackets + current.missingPackets;
    if (final) {
      b.completed += current.completed;
      b.failures += current.failures;
      b.underruns += current.underruns;
      b.resent += current.resent;
      b.missingPackets += current.missingPackets;
    }
  }

  /** Streams until stopped (undefined) or the camera is lost (the reason). */
  private stream(session: CameraSession, ring: Ring): Error | undefined {
    const { lostAfterMs } = this.init.settings;
    const triggered = this.init.features.triggerMode === 'On';
    const popTimeoutUs = POP_TIMEOUT_MS * 1000;
    const anchor: ClockAnchor = { hostNs: -1n, deviceNs: 0n };
    let previousId = 0;
    let lastBufferAt = Date.now();
    let lastCheckAt = lastBufferAt;
    while (!this.stopped()) {
      const buffer = session.pop(popTimeoutUs);
      const now = Date.now();
      if (buffer !== null) {
        try {
          previousId = this.handle(buffer, ring, anchor, previousId);
        } finally {
          session.push(buffer);
        }
        lastBufferAt = now;
      }
      if (buffer === null || now - lastCheckAt >= CHECK_EVERY_MS) {
        lastCheckAt = now;
        this.addStatistics(session.statistics(), false);
        if (!session.hasControl())
          return lostError('arv_gv_device_is_controller', 'control of the camera lost (no heartbeat answer)');
      }
      if (buffer === null && now - lastBufferAt >= lostAfterMs) {
        // A triggered camera may rightly send nothing (the line stopped): lost only if it does not answer.
        if (triggered && session.answers()) lastBufferAt = now;
        else
          return lostError(
            'arv_stream_timeout_pop_buffer',
            `no buffer from the camera for ${lostAfterMs} ms`,
          );
      }
    }
    return undefined;
  }

  /** Hands one buffer on (line, incomplete, gap); returns the newest frame id seen (late buffers do not move it back). */
  private handle(buffer: Pointer, ring: Ring, anchor: ClockAnchor, previousId: number): number {
    const { fn } = this.aravis;
    const status = fn.arv_buffer_get_status(buffer);
    const frameId = Number(fn.arv_buffer_get_frame_id(buffer));
    if (previousId !== 0) {
      const missing = framesMissing(previousId, frameId);
      if (missing > 0) this.post({ t: 'gap', afterFrameId: previousId, frameId, missing });
    }
    const newest = newestFrameId(previousId, frameId);
    if (status !== 0) {
      this.post({ t: 'incomplete', frameId, status: BUFFER_STATUS_NAMES[status] ?? `STATUS_${status}` });
      return newest;
    }
    const slot = ring.next;
    if (Atomics.load(ring.states, slot) !== SLOT_FREE) {
      this.post({ t: 'incomplete', frameId, status: 'ring_full' });
      return newest;
    }
    const data = fn.arv_buffer_get_data(buffer, this.size);
    const bytes = Math.min(Number(this.size[0]), ring.share.slotBytes);
    const view = ring.views[slot];
    if (data === null || view === undefined) {
      this.post({ t: 'incomplete', frameId, status: 'NO_DATA' });
      return newest;
    }
    this.aravis.copyInto(view, data, bytes);
    Atomics.store(ring.states, slot, SLOT_FILLED);
    ring.next = (slot + 1) % ring.share.slots;
    const deviceTimestampNs = BigInt(fn.arv_buffer_get_timestamp(buffer));
    const systemNs = BigInt(fn.arv_buffer_get_system_timestamp(buffer));
    this.post({
      t: 'line',
      slot,
      bytes,
      frameId,
      deviceTimestampNs,
      capturedAt: capturedAt(anchor, deviceTimestampNs, systemNs),
      width: fn.arv_buffer_get_image_width(buffer),
      height: fn.arv_buffer_get_image_height(buffer),
      pixelFormat: fn.arv_buffer_get_image_pixel_format(buffer),
    });
    return newest;
  }
}

/**
 * Epoch ms of a line: the camera clock anchored to the host clock at the session's first line
 * (host time of that line + camera-clock delta since), re-anchored when the two drift apart by
 * more than a second (a camera clock reset). A camera without a clock (timestamp 0) gets host time.
 */
export function capturedAt(
  anchor: { hostNs: bigint; deviceNs: bigint },
  deviceNs: bigint,
  systemNs: bigint,
): number {
  if (deviceNs === 0n) return Number(systemNs / 1000n) / 1000;
  if (anchor.hostNs < 0n) {
    anchor.hostNs = systemNs;
    anchor.deviceNs = deviceNs;
  }
  let ns = anchor.hostNs + (deviceNs - anchor.deviceNs);
  if (Math.abs(Number(ns - systemNs)) > REANCHOR_AFTER_MS * 1e6) {
    anchor.hostNs = systemNs;
    anchor.deviceNs = deviceNs;
    ns = systemNs;
  }
  return Number(ns / 1000n) / 1000;
}

function lostError(call: string, detail: string): GenicamError {
  return new GenicamError({ call, detail, domain: 'arv-device-error-quark', aravisCode: DEVICE_TIMEOUT });
}

/** Fatal: a feature the camera refuses before it ever streamed, or anything that is not Aravis's. */
function isFatal(error: unknown, everOpened: boolean): boolean {
  if (!(error instanceof SessionOpenError)) return true;
  const cause = error.cause;
  if (!(cause instanceof GenicamError)) return true;
  return error.phase === 'features' && !everOpened && !cause.transient;
}
