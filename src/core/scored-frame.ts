import type { CubeFrame } from './frame.js';

/**
 * Identity and geometry of a frame without its spectra: what flows after the score stage.
 */
export type FrameIdentity = Omit<CubeFrame, 'data' | 'bands' | 'wavelengths' | 'wavelengthUnits'>;

/** A block's spectra and their bands: `data` is the block's own buffer, not a copy. */
export type FrameSpectra = Pick<CubeFrame, 'data' | 'bands' | 'wavelengths' | 'wavelengthUnits'>;

/**
 * A frame after the score stage: one anomaly score per pixel (row-major, `height * width`),
 * on the CPU. Everything downstream of scoring (thresholds, decisions, sinks) works on this.
 */
export interface ScoredFrame extends FrameIdentity {
  /** Squared distance (Deep SVDD) or Mahalanobis distance (RX) per pixel; higher = more anomalous. */
  readonly scores: Float32Array;
  /** Version of the model that scored the frame, copied into decisions. */
  readonly modelVersion?: string;
  /**
   * The spectra the block was scored from, carried on to its decision by `deepSvddPipeline`
   * for readers after it (the live viewer draws them); valid until the frame's `release()`.
   * Absent from a frame assembled from blocks, and from a scorer's own output.
   */
  readonly spectra?: FrameSpectra;
}

/** A scored frame with the threshold τ that applies to it (pixel anomalous iff score >= τ). */
export interface ThresholdedFrame extends ScoredFrame {
  readonly threshold: number;
}
