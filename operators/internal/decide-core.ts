import { DECISION_SCHEMA, type DecidedFrame } from '../../src/core/decision.js';
import type { ThresholdedFrame } from '../../src/core/scored-frame.js';
import { type Connectivity, connectedComponents } from './connected-components.js';

/** The frame-verdict settings of `decideAnomalies`, validated. */
export interface VerdictRule {
  readonly minPixels: number;
  readonly minArea: number | undefined;
  readonly connectivity: Connectivity;
  readonly modelVersion: string | undefined;
  readonly now: () => number;
}

/** The pixel mask (score >= τ) of a thresholded block and its highest score (NaN scores skipped). */
export function maskOf(frame: ThresholdedFrame): { mask: Uint8Array; maxScore: number } {
  const { scores, threshold } = frame;
  const mask = new Uint8Array(scores.length);
  let maxScore = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < scores.length; i++) {
    const s = scores[i] as number;
    mask[i] = s >= threshold ? 1 : 0;
    if (s > maxScore) maxScore = s;
  }
  return { mask, maxScore };
}

/**
 * Decides a frame or block from its mask: blobs by connected components (bbox in whole-frame
 * rows), anomalous iff some blob reaches `minArea` (when set), else iff at least `minPixels`
 * pixels are anomalous. Builds the docs/wire-format.md §2 decision.
 */
export function decideMask(
  frame: ThresholdedFrame,
  mask: Uint8Array,
  pixels: number,
  maxScore: number,
  missingRows: number,
  rule: VerdictRule,
): DecidedFrame {
  const blobs = connectedComponents(
    mask,
    frame.scores,
    frame.height,
    frame.width,
    rule.connectivity,
    frame.rowOffset,
  );
  const anomalousPixels = blobs.reduce((sum, b) => sum + b.area, 0);
  const { minArea } = rule;
  const anomalous =
    minArea === undefined ? anomalousPixels >= rule.minPixels : blobs.some((b) => b.area >= minArea);
  return {
    ...frame,
    mask,
    missingRows,
    decision: {
      schema: DECISION_SCHEMA,
      cameraId: frame.cameraId,
      frameId: frame.frameId,
      rowOffset: frame.rowOffset,
      capturedAt: frame.capturedAt,
      decidedAt: rule.now(),
      anomalous,
      anomalousPixels,
      pixels,
      maxScore,
      threshold: frame.threshold,
      blobs,
      modelVersion: rule.modelVersion ?? frame.modelVersion ?? 'unknown',
    },
  };
}
