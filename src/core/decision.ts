import type { ThresholdedFrame } from './scored-frame.js';

/** Value of the `schema` field of every decision message. */
export const DECISION_SCHEMA = 'cubestream.decision/1';

/**
 * A connected region of anomalous pixels. `x`, `y` are the top-left corner of its bounding box
 * in whole-frame coordinates (`y` includes the block's `rowOffset`), `w`, `h` its size.
 */
export interface Blob {
  x: number;
  y: number;
  w: number;
  h: number;
  /** Anomalous pixels in the blob. */
  area: number;
  /** Highest score inside the blob. */
  maxScore: number;
}

/**
 * The decision message of DESIGN §4, published as JSON to MQTT and NATS. Flat and fixed so a
 * PLC can parse it; field order is kept by {@link encodeDecision}.
 */
export interface Decision {
  schema: typeof DECISION_SCHEMA;
  cameraId: string;
  frameId: number;
  rowOffset: number;
  /** Epoch ms at capture, from the source. */
  capturedAt: number;
  /** Epoch ms when the decision was made. */
  decidedAt: number;
  anomalous: boolean;
  anomalousPixels: number;
  pixels: number;
  maxScore: number;
  threshold: number;
  blobs: Blob[];
  modelVersion: string;
}

/** A thresholded frame with its pixel mask (1 = anomalous) and the decision for it. */
export interface DecidedFrame extends ThresholdedFrame {
  /** `height * width`, 1 where score >= threshold. */
  readonly mask: Uint8Array;
  readonly decision: Decision;
}

/** Serialises a decision as the compact JSON of DESIGN §4 (fields in schema order). */
export function encodeDecision(decision: Decision): string {
  const ordered: Decision = {
    schema: DECISION_SCHEMA,
    cameraId: decision.cameraId,
    frameId: decision.frameId,
    rowOffset: decision.rowOffset,
    capturedAt: decision.capturedAt,
    decidedAt: decision.decidedAt,
    anomalous: decision.anomalous,
    anomalousPixels: decision.anomalousPixels,
    pixels: decision.pixels,
    maxScore: decision.maxScore,
    threshold: decision.threshold,
    blobs: decision.blobs.map((b) => ({
      x: b.x,
      y: b.y,
      w: b.w,
      h: b.h,
      area: b.area,
      maxScore: b.maxScore,
    })),
    modelVersion: decision.modelVersion,
  };
  return JSON.stringify(ordered);
}
