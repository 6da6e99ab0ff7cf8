/**
 * The fail safe's wiring: the pipeline's reject and drop hooks, as the service connects them,
 * hand every block that leaves undecided to `onUndecided` with its reason, and the service turns
 * that into an `unknown` decision (the rejected path end to end is in service.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { DeadLetterSink } from '../../../connectors/sinks/dead-letter.js';
import { PipelineTelemetry } from '../../../src/app/service/pipeline-telemetry.js';
import { ServiceStats } from '../../../src/app/service/service-stats.js';
import { undecidedDecision } from '../../../src/core/decision.js';
import { createFrame, InvalidFrameError } from '../../../src/core/frame.js';
import { createLogger } from '../../../src/telemetry/logger.js';
import { createMetrics } from '../../../src/telemetry/metrics.js';

describe('blocks that leave the pipeline undecided', () => {
  it('a dropped block and a rejected block each reach onUndecided with the reason, and make an unknown verdict', () => {
    const undecided: [number, string][] = [];
    const telemetry = new PipelineTelemetry({
      metrics: createMetrics({ defaultMetrics: false }),
      stats: new ServiceStats(),
      logger: createLogger({ level: 'silent' }),
      deadLetters: new DeadLetterSink([]),
      cameras: ['cam0'],
      calibratedThreshold: 0.06,
      onUndecided: (frame, reason) => undecided.push([frame.frameId, reason]),
    });
    const frame = (frameId: number) =>
      createFrame({ cameraId: 'cam0', frameId, height: 2, width: 2, bands: 1, data: new Float32Array(4) });
    telemetry.hooks.onDrop?.(frame(4), 'queue_full_oldest');
    telemetry.hooks.onReject?.(frame(5), new InvalidFrameError('bands', 'bands', 30, 'the model expects 61'));
    expect(undecided).toEqual([
      [4, 'dropped:queue_full_oldest'],
      [5, 'rejected:bands'],
    ]);
    const decision = undecidedDecision(frame(4), 'dropped:queue_full_oldest', 0.06, 'demo-lentils-2', 1);
    expect(decision).toMatchObject({ verdict: 'unknown', anomalous: true, frameId: 4 });
  });
});
