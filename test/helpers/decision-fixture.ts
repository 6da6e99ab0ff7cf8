/** Decisions for sink tests, generated in code. */
import { DECISION_SCHEMA, type Decision } from '../../src/core/decision.js';

/** A valid decision for `cameraId`/`frameId`, with fields overridable. */
export function makeDecision(overrides: Partial<Decision> = {}): Decision {
  const frameId = overrides.frameId ?? 1;
  return {
    schema: DECISION_SCHEMA,
    cameraId: 'cam1',
    frameId,
    rowOffset: 0,
    capturedAt: 1_700_000_000_000 + frameId,
    decidedAt: 1_700_000_000_050 + frameId,
    anomalous: frameId % 3 === 0,
    anomalousPixels: frameId % 3 === 0 ? 12 : 0,
    pixels: 80_000,
    maxScore: 1.5,
    threshold: 0.75,
    blobs: frameId % 3 === 0 ? [{ x: 10, y: 20, w: 4, h: 3, area: 12, maxScore: 1.5 }] : [],
    modelVersion: 'test-model-1',
    ...overrides,
  };
}

/** `count` decisions of one camera with frame ids 1..count. */
export function makeDecisions(count: number, cameraId = 'cam1'): Decision[] {
  return Array.from({ length: count }, (_, i) => makeDecision({ cameraId, frameId: i + 1 }));
}
