/**
 * Every block buffer a source lends from its pool goes back exactly once, whatever became of the
 * block: decided (after the sinks and, with the viewer on, after its strip), rejected by
 * validation, or dropped by the queue. Each lease's `release` is wrapped to count its calls.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { resolveDemoModelDir } from '../../../src/app/service/demo-settings.js';
import { type RunConfigInput, RunConfigSchema } from '../../../src/app/service/run-config.js';
import { type ServiceOutcome, startService } from '../../../src/app/service/service.js';
import { FrameBufferPool } from '../../../src/core/frame-buffer-pool.js';
import { validateConfig } from '../../../src/core/validate.js';
import { writeEnviCube } from '../../../src/io/envi/writer.js';
import { saveBundle } from '../../../src/model/bundle.js';
import { createLogger } from '../../../src/telemetry/logger.js';
import { TINY_WAVELENGTHS, tinyDeepSvddBundle, tinyFrame } from '../../helpers/tiny-model.js';

const logger = createLogger({ level: 'silent' });

/** A buffer lent by a pool, and how many times its release was called. */
interface Lease {
  readonly data: Float32Array;
  releases: number;
}

let dir: string;
let leases: Lease[];
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cubestream-buffers-'));
  leases = [];
  const lend = FrameBufferPool.prototype.lend;
  vi.spyOn(FrameBufferPool.prototype, 'lend').mockImplementation(function (this: FrameBufferPool, length) {
    const lease = lend.call(this, length);
    const tracked: Lease = { data: lease.data, releases: 0 };
    leases.push(tracked);
    return {
      data: lease.data,
      release: () => {
        tracked.releases += 1;
        lease.release();
      },
    };
  });
});
afterEach(async () => {
  vi.restoreAllMocks();
  await rm(dir, { recursive: true, force: true });
});

/** Runs a service to its end (viewer on), then lets the viewer's last strips go by. */
async function run(
  settings: Partial<RunConfigInput> & Pick<RunConfigInput, 'source'>,
): Promise<ServiceOutcome> {
  const config = validateConfig(
    RunConfigSchema,
    {
      model: { path: resolveDemoModelDir() },
      sinks: { file: { path: join(dir, 'decisions.jsonl') }, deadLetter: { file: join(dir, 'dead.jsonl') } },
      metrics: { port: 0, host: '127.0.0.1' },
      viewer: { enabled: true, port: 0, host: '127.0.0.1' },
      ...settings,
    },
    'test',
  );
  const outcome = await (await startService(config, { logger })).done;
  await new Promise((resolve) => setImmediate(resolve));
  return outcome;
}

function expectEachReleasedOnce(outcome: ServiceOutcome): void {
  expect(outcome.code).toBe(0);
  expect(outcome.decisions + outcome.dropped + outcome.rejected).toBe(outcome.frames);
  expect(leases).toHaveLength(outcome.frames);
  expect(leases.map((lease) => lease.releases)).toEqual(leases.map(() => 1));
}

describe('block buffers in the service', () => {
  it('go back once each when a camera outruns a one-block queue: decided and dropped blocks', async () => {
    // 100,000 lines/s: a timer tick emits tens of 8-line blocks at once; the queue keeps one.
    const outcome = await run({
      source: { kind: 'simulated', width: 32, blockRows: 8, seed: 3, maxBlocks: 60, linesPerSecond: 100_000 },
      pipeline: { backpressure: { policy: 'dropOldest', capacity: 1 } },
    });
    expect(outcome.dropped).toBeGreaterThan(0);
    expect(outcome.decisions).toBeGreaterThan(0);
    expectEachReleasedOnce(outcome);
  });

  it('go back once each for decided blocks and blocks rejected by validation', async () => {
    const model = join(dir, 'model');
    await saveBundle(model, tinyDeepSvddBundle());
    const cubes = join(dir, 'cubes');
    await mkdir(cubes);
    for (const [i, name] of ['a', 'b', 'c'].entries()) {
      const frame = tinyFrame({ frameId: i });
      // Cube b has a NaN in its first block: that block is rejected (`nonfinite`).
      if (name === 'b') frame.data[5] = Number.NaN;
      await writeEnviCube(
        join(cubes, `${name}.hdr`),
        {
          lines: frame.height,
          samples: frame.width,
          bands: frame.bands,
          data: frame.data,
          wavelengths: TINY_WAVELENGTHS,
        },
        { dataType: 4, interleave: 'bil' },
      );
    }
    const outcome = await run({
      source: { kind: 'envi', path: cubes, blockRows: 4, cameraId: 'line1' },
      model: { path: model },
      pipeline: { scorerWorkers: 0, backpressure: { capacity: 64 } },
    });
    expect(outcome).toMatchObject({ frames: 12, rejected: 1, decisions: 11, dropped: 0 });
    expectEachReleasedOnce(outcome);
  });
});
