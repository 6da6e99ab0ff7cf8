/**
 * What the main thread ({@link openLineStream}) and the acquisition worker exchange: one init
 * message in, small messages out, and shared memory for the rest. A line's bytes travel in a
 * ring of SharedArrayBuffer slots; the slot states (an Int32Array) say who owns a slot.
 */
import type { GenicamFeatures } from './camera-features.js';
import type { WireError } from './genicam-errors.js';
import type { LineStreamSettings } from './line-stream-options.js';
import type { OpenedCamera } from './opened-camera.js';

/** Slot state: the worker may fill it. */
export const SLOT_FREE = 0;
/** Slot state: it holds a line the main thread has not handed out yet. */
export const SLOT_FILLED = 1;

/** Index of the stop flag in the control words (non-zero: close). */
export const CONTROL_STOP = 0;
/** Control words (Int32Array length). */
export const CONTROL_WORDS = 1;

/** Layout of the statistics (Float64Array), cumulative over the stream's sessions. */
export const STATS_FIELDS = ['completed', 'failures', 'underruns', 'resent', 'missingPackets'] as const;

/** The first (and only) message to the worker. */
export interface AcquisitionInit {
  readonly camera: string;
  readonly features: GenicamFeatures;
  readonly settings: LineStreamSettings;
  /** Int32Array of {@link CONTROL_WORDS}: the main thread sets {@link CONTROL_STOP} and notifies. */
  readonly control: SharedArrayBuffer;
  /** Float64Array of {@link STATS_FIELDS}, written by the worker. */
  readonly stats: SharedArrayBuffer;
  /** The process's Aravis discovery lock. */
  readonly discoveryLock: SharedArrayBuffer;
}

/** The line ring as both threads see it: `slots` slots of `slotBytes` bytes, and their states. */
export interface RingShare {
  readonly data: SharedArrayBuffer;
  /** Int32Array, one state per slot ({@link SLOT_FREE}, {@link SLOT_FILLED}). */
  readonly states: SharedArrayBuffer;
  readonly slotBytes: number;
  readonly slots: number;
}

/** Messages from the worker, in the order things happened. */
export type AcquisitionMessage =
  | {
      readonly t: 'opened';
      readonly camera: OpenedCamera;
      readonly reconnected: boolean;
      readonly ring: RingShare;
    }
  | {
      readonly t: 'line';
      readonly slot: number;
      readonly bytes: number;
      readonly frameId: number;
      readonly deviceTimestampNs: bigint;
      readonly capturedAt: number;
      readonly width: number;
      readonly height: number;
      readonly pixelFormat: number;
    }
  | { readonly t: 'incomplete'; readonly frameId: number; readonly status: string }
  | { readonly t: 'gap'; readonly afterFrameId: number; readonly frameId: number; readonly missing: number }
  | { readonly t: 'lost'; readonly error: WireError; readonly attempt: number; readonly retryInMs: number }
  | { readonly t: 'fatal'; readonly error: WireError }
  | { readonly t: 'closed' };
