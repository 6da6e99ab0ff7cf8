/**
 * `npm run bench -- --scenario genicam --json`, briefly (2 s a side), against Aravis's fake GigE
 * Vision camera: the scenario's JSON line carries the camera figures as numbers. No timing is
 * asserted. Under CI=true a missing fake camera fails this test instead of skipping it.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { FAKE_CAMERA_HOOK_TIMEOUT_MS, fakeCameraInstalled } from '../helpers/fake-gv-camera.js';

const run = promisify(execFile);

describe.skipIf(!fakeCameraInstalled && process.env.CI !== 'true')('bench scenario genicam', () => {
  it(
    'reports lines received and decided, Aravis rate, ratio, lost lines and p99 as numbers',
    async () => {
      const { stdout } = await run(
        process.execPath,
        ['--import', 'tsx', 'bench/run.ts', '--scenario', 'genicam', '--json', '--seconds', '2'],
        { maxBuffer: 16 * 1024 * 1024, timeout: FAKE_CAMERA_HOOK_TIMEOUT_MS + 120_000 },
      );
      const summary = JSON.parse(stdout.trim().split('\n').at(-1) ?? '') as {
        scenarios: Record<string, unknown>[];
      };
      expect(summary.scenarios).toHaveLength(1);
      const [scenario] = summary.scenarios;
      expect(scenario).toMatchObject({ name: 'genicam', engine: expect.stringMatching(/^(onnx|tfjs)$/) });
      for (const field of [
        'framesPerSecond',
        'decidedFramesPerSecond',
        'aravisFramesPerSecond',
        'ratio',
        'incomplete',
        'gapLines',
        'aravisIncomplete',
        'p99CaptureToDecisionMs',
        'rejected',
        'cpuCores',
        'mpxPerSecond',
        'p50BlockMs',
        'p99BlockMs',
        'dropped',
      ]) {
        expect(Number.isFinite(scenario?.[field]), `${field} = ${JSON.stringify(scenario?.[field])}`).toBe(
          true,
        );
      }
      expect(scenario?.framesPerSecond).toBeGreaterThan(0);
      expect(scenario?.aravisFramesPerSecond).toBeGreaterThan(0);
      expect(Number.isInteger(scenario?.incomplete)).toBe(true);
      expect(scenario?.rejected).toBe(0);
      // The rig's defaults: jumbo packets on both sides, one scoring worker.
      expect(scenario).toMatchObject({ packetSize: 9000, scorerWorkers: 1 });
    },
    FAKE_CAMERA_HOOK_TIMEOUT_MS + 150_000,
  );
});
