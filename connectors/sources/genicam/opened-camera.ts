/**
 * A camera as the acquisition worker opened it: who it is, and the line format its features gave.
 */
import type { FeatureReadback } from './camera-features.js';
import type { DiscoveredCamera } from './discover-cameras.js';

/** An open camera: its identity, its line format and the read-back of the features set. */
export interface OpenedCamera extends DiscoveredCamera {
  /** `Width` read back: pixels per camera frame row. */
  readonly width: number;
  /** `Height` read back: rows per camera frame. */
  readonly height: number;
  /** `PixelFormat` read back, e.g. `Mono16`. */
  readonly pixelFormat: string;
  /** Bytes of one camera frame (`PayloadSize`). */
  readonly payloadBytes: number;
  /** Every feature set, plus Width, Height, PixelFormat and PayloadSize, as read back. */
  readonly features: FeatureReadback;
}
