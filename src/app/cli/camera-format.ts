import { loadAravis } from '../../../connectors/sources/genicam/aravis-library.js';
import type { DiscoveredCamera } from '../../../connectors/sources/genicam/discover-cameras.js';
import { type LineStream, openLineStream } from '../../../connectors/sources/genicam/line-stream.js';
import { CameraCaptureError } from './camera-lines.js';

/** A camera's current line format, as read back. */
export interface CameraFormat {
  readonly width: number;
  readonly height: number;
  readonly pixelFormat: string;
  /** Bytes of one camera frame (one line). */
  readonly payloadBytes: number;
}

/** A camera's identity and its current format. */
export interface CameraFormatReading {
  readonly camera: DiscoveredCamera;
  readonly format: CameraFormat;
}

/**
 * Opens camera `name` (Aravis id, IP address or serial) without setting any feature, reads
 * back its line format, and closes it. The camera must not be in use by another program (a
 * GigE Vision camera has one controller).
 *
 * @throws `AravisUnavailableError` without Aravis; the open error when the camera cannot be
 *   opened (it is not retried)
 * @example
 * ```ts
 * const { format } = await readCameraFormat('127.0.0.1');
 * format.pixelFormat; // 'Mono8'
 * ```
 */
export async function readCameraFormat(name: string): Promise<CameraFormatReading> {
  // Loaded on this thread before the worker starts (see readCameraLines).
  await loadAravis();
  return new Promise<CameraFormatReading>((resolve, reject) => {
    let stream: LineStream | undefined;
    let settled = false;
    const settle = (outcome: () => void): void => {
      if (settled) return;
      settled = true;
      // The stream is closed before the answer, so the camera is free again when it comes.
      const closing = stream?.close() ?? Promise.resolve();
      closing.then(outcome, outcome);
    };
    stream = openLineStream(
      { camera: name, features: {}, buffers: 2 },
      {
        onOpened: (camera) => {
          const { id, vendor, model, serial, address, protocol } = camera;
          const { width, height, pixelFormat, payloadBytes } = camera;
          settle(() =>
            resolve({
              camera: { id, vendor, model, serial, address, protocol },
              format: { width, height, pixelFormat, payloadBytes },
            }),
          );
        },
        onLine: () => undefined,
        onIncomplete: () => undefined,
        onGap: () => undefined,
        onLost: ({ error }) =>
          settle(() =>
            reject(
              new CameraCaptureError(`camera ${name} cannot be opened: ${error.message}`, { cause: error }),
            ),
          ),
        onFatal: (error) => settle(() => reject(error)),
      },
    );
    if (settled) void stream.close();
  });
}
