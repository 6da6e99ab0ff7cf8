import type { CubeFrame } from './frame.js';

/**
 * Identity and geometry of a frame without its spectra: what flows after the score stage.
 */
export type FrameIdentity = Omit<CubeFrame, 'data' | 'bands' | 'wavelengths' | 'wavelengthUnits'>;

/**
 * A frame after the score stage: one anomaly score per pixel (row-major, `height * width`),
 * on the CPU. Everything downstream of scoring (thresholds, decisions, sinks) works on this.
 */
export interface ScoredFrame extends FrameIdentity {
  /** Squared distance (Deep SVDD) or Mahalanobis distance (RX) per pixel; higher = more anomalous. */
  readonly scores: Float32Array;
  /** Version of the model that scored the frame, copied into decisions. */
  readonly modelVersion?: string;
}

/** A scored frame with the threshold τ that applies to it (pixel anomalous iff score >= τ). */
export interface ThresholdedFrame extends ScoredFrame {
  readonly threshold: number;
}
