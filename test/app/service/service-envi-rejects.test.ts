/**
 * The service replaying an ENVI folder in which one cube is truncated: the good cubes are decided,
 * the bad one is counted in `cubestream_frames_rejected_total` and dead-lettered, and the run ends
 * with code 0 (it used to decide nothing: the whole stream failed on the bad cube).
 */
import { mkdir, mkdtemp, readFile, rm, truncate } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseDecision } from '../../../connectors/codec/decision-json.js';
import { RunConfigSchema } from '../../../src/app/service/run-config.js';
import { startService } from '../../../src/app/service/service.js';
import { validateConfig } from '../../../src/core/validate.js';
import { writeEnviCube } from '../../../src/io/envi/writer.js';
import { saveBundle } from '../../../src/model/bundle.js';
import { createLogger } from '../../../src/telemetry/logger.js';
import { TINY_WAVELENGTHS, tinyDeepSvddBundle, tinyFrame } from '../../helpers/tiny-model.js';
import { parsePromText, promValue } from './prom-text.js';

const logger = createLogger({ level: 'silent' });
let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cubestream-envi-rejects-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function lines(file: string): Promise<string[]> {
  return (await readFile(file, 'utf8')).split('\n').filter((line) => line !== '');
}

describe('startService on an ENVI folder with a truncated cube', () => {
  it('decides the good cubes, counts and dead-letters the bad one, and ends with code 0', async () => {
    const model = join(dir, 'model');
    await saveBundle(model, tinyDeepSvddBundle());
    const cubes = join(dir, 'cubes');
    await mkdir(cubes);
    for (const [i, name] of ['a', 'b', 'c'].entries()) {
      const frame = tinyFrame({ frameId: i, anomaly: i === 2 ? { row: 4, col: 10, size: 4 } : undefined });
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
    await truncate(join(cubes, 'b.img'), 1000);

    const config = validateConfig(
      RunConfigSchema,
      {
        source: { kind: 'envi', path: cubes, blockRows: 8, cameraId: 'line1' },
        model: { path: model },
        pipeline: { scorerWorkers: 0 },
        sinks: {
          file: { path: join(dir, 'decisions.jsonl') },
          deadLetter: { file: join(dir, 'dead.jsonl') },
        },
        metrics: { port: 0, host: '127.0.0.1' },
        viewer: { enabled: false },
      },
      'test',
    );
    const service = await startService(config, { logger });
    const outcome = await service.done;
    expect(outcome).toMatchObject({ code: 0, reason: 'source ended', frames: 4, decisions: 4, rejected: 1 });

    // Cubes a and c, two blocks of 8 lines each, as frames 0 and 1.
    const decisions = (await lines(join(dir, 'decisions.jsonl'))).map((line) => parseDecision(line));
    expect(decisions.map((d) => [d.cameraId, d.frameId, d.rowOffset]).sort()).toEqual([
      ['line1', 0, 0],
      ['line1', 0, 8],
      ['line1', 1, 0],
      ['line1', 1, 8],
    ]);
    expect(decisions.some((d) => d.frameId === 1 && d.anomalous)).toBe(true);

    const samples = parsePromText(await service.metrics.registry.metrics());
    expect(
      promValue(samples, 'cubestream_frames_rejected_total', { camera: 'line1', reason: 'decode' }),
    ).toBe(1);

    const letters = (await lines(join(dir, 'dead.jsonl'))).map(
      (line) => JSON.parse(line) as Record<string, unknown>,
    );
    expect(letters).toHaveLength(1);
    expect(letters[0]).toMatchObject({
      schema: 'cubestream.deadletter/1',
      reason: 'decode',
      cameraId: 'line1',
      channel: join(cubes, 'b.hdr'),
      bytes: 1000,
    });
    expect(letters[0]?.message).toContain(
      `cube ${join(cubes, 'b.hdr')} skipped: ENVI data file ${join(cubes, 'b.img')} is truncated`,
    );
  });
});
