/**
 * The retained per-camera status message of docs/wire-format.md §3, on `<prefix>/<cameraId>/status`:
 * `{"state":"online"|"offline","modelVersion","threshold"?,"at"}` (`at` in epoch ms).
 */

/** Online while the service runs and is connected; offline after a clean stop or via the last will. */
export type CameraState = 'online' | 'offline';

/** A status message. */
export interface CameraStatus {
  state: CameraState;
  modelVersion: string;
  /** Current score threshold, when known. */
  threshold?: number;
  /**
   * Epoch ms when the status was published. For the last-will `offline` message the broker
   * cannot stamp the time of death: `at` is then when the connection was (re)established.
   */
  at: number;
}

/** Serialises a status with fixed field order; `threshold` only when it is a finite number. */
export function encodeStatus(status: CameraStatus): string {
  const { state, modelVersion, threshold, at } = status;
  const known = threshold !== undefined && Number.isFinite(threshold);
  return JSON.stringify({ state, modelVersion, ...(known ? { threshold } : {}), at });
}
