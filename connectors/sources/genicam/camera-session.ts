/**
 * One connection to a camera, owned by the acquisition worker's thread: discovery and open, the
 * features applied, a stream with its buffers queued and acquisition started; then buffers popped
 * and pushed back, health checks, and a teardown that never throws. A reconnect is a new session.
 */
import { type AravisLibrary, GenicamError, type NumberSlot, type Pointer } from './aravis-library.js';
import { applyFeatures, type GenicamFeatures } from './camera-features.js';
import { type DiscoveredCamera, readDeviceList } from './discover-cameras.js';
import { withDiscoveryLockSync } from './discovery-lock.js';
import type { OpenedCamera } from './opened-camera.js';

/** `ArvGvStream` `packet-resend` values (A:src/arvgvstream.h). */
const PACKET_RESEND_NEVER = 0;
const PACKET_RESEND_ALWAYS = 1;
/** `ArvGvStream` `socket-buffer` AUTO: the socket's receive buffer sized to a whole frame. */
const SOCKET_BUFFER_AUTO = 1;
/** `ArvDeviceError` NOT_CONTROLLER (A:src/arvdevice.h). */
const NOT_CONTROLLER = 10;

/** Where opening failed: reaching the camera, setting its features, or starting its stream. */
export type OpenPhase = 'connect' | 'features' | 'stream';

/** A failed {@link CameraSession.open}, with the phase it failed in. */
export class SessionOpenError extends Error {
  /**
   * @param phase - where it failed
   * @param cause - the error (a GenicamError from Aravis, mostly)
   */
  constructor(
    readonly phase: OpenPhase,
    override readonly cause: unknown,
  ) {
    super(cause instanceof Error ? cause.message : String(cause));
    this.name = 'SessionOpenError';
  }
}

/** What to open and how. */
export interface SessionOptions {
  /** Aravis device id, IP address or serial. */
  readonly camera: string;
  readonly features: GenicamFeatures;
  /** Buffers to queue. */
  readonly buffers: number;
  readonly packetResend: boolean;
}

/** Stream statistics of a session (Aravis counts per stream, from 0). */
export interface SessionStatistics {
  completed: number;
  failures: number;
  underruns: number;
  resent: number;
  missingPackets: number;
}

function identify(aravis: AravisLibrary, camera: Pointer, requested: string, list: DiscoveredCamera[]) {
  const { fn } = aravis;
  const text = (read: (e: [Pointer | null]) => string | null) => {
    try {
      return aravis.check('arv_camera_get_device_id', read) ?? '';
    } catch {
      return '';
    }
  };
  const serial = text((e) => fn.arv_camera_get_device_serial_number(camera, e));
  const entry =
    list.find((c) => c.id === requested || c.address === requested || c.serial === requested) ??
    list.find((c) => serial !== '' && c.serial === serial);
  const gv = fn.arv_camera_is_gv_device(camera);
  return {
    id: entry?.id ?? text((e) => fn.arv_camera_get_device_id(camera, e)),
    vendor: entry?.vendor ?? text((e) => fn.arv_camera_get_vendor_name(camera, e)),
    model: entry?.model ?? text((e) => fn.arv_camera_get_model_name(camera, e)),
    serial: entry?.serial ?? serial,
    address: entry?.address ?? (gv ? requested : ''),
    protocol: entry?.protocol ?? (gv ? 'GigEVision' : ''),
  };
}

/** An open camera with its stream acquiring. */
export class CameraSession {
  private closed = false;
  private readonly slots: { a: NumberSlot; b: NumberSlot; c: NumberSlot } = { a: [0], b: [0], c: [0] };

  private constructor(
    private readonly aravis: AravisLibrary,
    private readonly camera: Pointer,
    private readonly device: Pointer | null,
    private readonly stream: Pointer,
    private readonly gv: boolean,
    /** The camera as opened, with its features read back. */
    readonly info: OpenedCamera,
  ) {}

  /**
   * Discovers and opens the camera, applies the features, creates the stream, queues the buffers
   * and starts acquisition. Blocks the calling thread (seconds when the camera does not answer).
   *
   * @throws {@link SessionOpenError} with the phase and the cause; everything opened so far is released
   */
  static open(aravis: AravisLibrary, options: SessionOptions): CameraSession {
    const { fn } = aravis;
    let camera: Pointer | null = null;
    let stream: Pointer | null = null;
    let phase: OpenPhase = 'connect';
    try {
      const [opened, list] = withDiscoveryLockSync(() => {
        fn.arv_update_device_list();
        const found = readDeviceList(aravis);
        // `camera:` may be an Aravis id, an address or a serial: Aravis opens the first two by
        // itself; a serial is mapped to its id through the list just read.
        const name = found.find((c) => c.serial === options.camera && c.id !== '')?.id ?? options.camera;
        return [aravis.check('arv_camera_new', (e) => fn.arv_camera_new(name, e)), found] as const;
      });
      if (opened === null)
        throw new GenicamError({ call: 'arv_camera_new', detail: `camera ${options.camera} not found` });
      camera = opened;
      const device = fn.arv_camera_get_device(camera);
      const gv = fn.arv_camera_is_gv_device(camera);
      if (gv && device !== null && !fn.arv_gv_device_is_controller(device))
        throw new GenicamError({
          call: 'arv_camera_new',
          detail:
            'opened without control of the camera: another application (or a session not yet timed out) holds it',
          domain: 'arv-device-error-quark',
          aravisCode: NOT_CONTROLLER,
        });
      const identity = identify(aravis, camera, options.camera, list);
      phase = 'features';
      const features = applyFeatures(aravis, camera, options.features);
      phase = 'stream';
      const payloadBytes = Number(features.PayloadSize);
      const cam = camera;
      stream = aravis.check('arv_camera_create_stream', (e) =>
        fn.arv_camera_create_stream(cam, null, null, e),
      );
      if (stream === null)
        throw new GenicamError({ call: 'arv_camera_create_stream', detail: 'no stream created' });
      if (gv) {
        aravis.setObjectInt(
          stream,
          'packet-resend',
          options.packetResend ? PACKET_RESEND_ALWAYS : PACKET_RESEND_NEVER,
        );
        aravis.setObjectInt(stream, 'socket-buffer', SOCKET_BUFFER_AUTO);
      }
      for (let i = 0; i < options.buffers; i++) {
        const buffer = fn.arv_buffer_new_allocate(payloadBytes);
        if (buffer === null)
          throw new GenicamError({ call: 'arv_buffer_new_allocate', detail: 'out of memory' });
        fn.arv_stream_push_buffer(stream, buffer);
      }
      aravis.check('arv_camera_start_acquisition', (e) => fn.arv_camera_start_acquisition(cam, e));
      const info: OpenedCamera = {
        ...identity,
        width: Number(features.Width),
        height: Number(features.Height),
        pixelFormat: String(features.PixelFormat),
        payloadBytes,
        features,
      };
      return new CameraSession(aravis, camera, device, stream, gv, info);
    } catch (error) {
      if (stream !== null) fn.g_object_unref(stream);
      if (camera !== null) fn.g_object_unref(camera);
      throw new SessionOpenError(phase, error);
    }
  }

  /** The next buffer (waits up to `timeoutUs`), or null. Push it back with {@link push}. */
  pop(timeoutUs: number): Pointer | null {
    return this.aravis.fn.arv_stream_timeout_pop_buffer(this.stream, timeoutUs);
  }

  /** Gives a popped buffer back to the stream, to be filled again. */
  push(buffer: Pointer): void {
    this.aravis.fn.arv_stream_push_buffer(this.stream, buffer);
  }

  /** False once a GigE Vision camera's heartbeat found that this session lost control (no I/O here). */
  hasControl(): boolean {
    return !this.gv || this.device === null || this.aravis.fn.arv_gv_device_is_controller(this.device);
  }

  /** Reads a feature from the camera: true when it answers (for a triggered camera that sends nothing). */
  answers(): boolean {
    try {
      this.aravis.check('arv_camera_get_integer', (e) =>
        this.aravis.fn.arv_camera_get_integer(this.camera, 'Width', e),
      );
      return true;
    } catch {
      return false;
    }
  }

  /** This session's stream counters. */
  statistics(): SessionStatistics {
    const { fn } = this.aravis;
    const { a, b, c } = this.slots;
    fn.arv_stream_get_statistics(this.stream, a, b, c);
    const completed = Number(a[0]);
    const failures = Number(b[0]);
    const underruns = Number(c[0]);
    let resent = 0;
    let missingPackets = 0;
    if (this.gv) {
      fn.arv_gv_stream_get_statistics(this.stream, a, b);
      resent = Number(a[0]);
      missingPackets = Number(b[0]);
    }
    return { completed, failures, underruns, resent, missingPackets };
  }

  /** Stops acquisition and releases the stream (its buffers) and the camera. Never throws; idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    const { fn } = this.aravis;
    try {
      this.aravis.check('arv_camera_stop_acquisition', (e) => fn.arv_camera_stop_acquisition(this.camera, e));
    } catch {
      // The camera may be gone: the stream and camera are released all the same.
    }
    fn.g_object_unref(this.stream);
    fn.g_object_unref(this.camera);
  }
}
