/**
 * `sinks.capture` end to end: the service on the simulated camera (pooled block buffers, the
 * viewer on, so a block's last read is deferred and its buffer refilled right after), with every
 * anomalous block and every normal one captured. Each capture reads back with the ENVI reader
 * equal to the block the pipeline decided; the metrics count them; and `cubestream train` takes
 * the folder of normal captures as it is and makes a bundle of it.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CAPTURE_FILES, type CaptureMetadata } from '../../../connectors/sinks/capture/capture-files.js';
import { runCli } from '../../../src/app/cli/main.js';
import { resolveDemoModelDir } from '../../../src/app/service/demo-settings.js';
import { RunConfigSchema } from '../../../src/app/service/run-config.js';
import { type ServiceOutcome, startService } from '../../../src/app/service/service.js';
import type { Decision } from '../../../src/core/decision.js';
import { validateConfig } from '../../../src/core/validate.js';
import { readEnviCube, readEnviMask } from '../../../src/io/envi/index.js';
import { loadBundle } from '../../../src/model/bundle.js';
import { createLogger } from '../../../src/telemetry/logger.js';
import { createMetrics } from '../../../src/telemetry/metrics.js';
import { captureIO } from '../../helpers/capture-io.js';

const REPO_ROOT = resolve(fileURLToPath(new URL('../../..', import.meta.url)));
const logger = createLogger({ level: 'silent' });

/** What the test saw of each decided block, copied before its buffer went back to the pool. */
interface Seen {
  readonly decision: Decision;
  readonly data: Float32Array;
  readonly mask: Uint8Array;
}

let dir: string;
let captures: string;
let outcome: ServiceOutcome;
let metricsText: string;
const seen = new Map<string, Seen>();
const key = (d: Pick<Decision, 'frameId' | 'rowOffset'>) => `${d.frameId}:${d.rowOffset}`;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cubestream-capture-service-'));
  captures = join(dir, 'captures');
  const config = validateConfig(
    RunConfigSchema,
    {
      source: {
        kind: 'simulated',
        cameraId: 'line1',
        width: 32,
        blockRows: 8,
        seed: 3,
        maxBlocks: 24,
        anomalyRate: 0.3,
      },
      model: { path: resolveDemoModelDir() },
      pipeline: { scorerWorkers: 0 },
      sinks: {
        file: { path: join(dir, 'decisions.jsonl') },
        capture: { dir: captures, normalSample: 1, queueSize: 64 },
      },
      metrics: { port: 0, host: '127.0.0.1' },
      viewer: { enabled: true, port: 0, host: '127.0.0.1' },
    },
    'test',
  );
  const metrics = createMetrics({ defaultMetrics: false });
  const service = await startService(config, {
    logger,
    metrics,
    onDecision: (decided) => {
      const data = decided.spectra?.data;
      if (data === undefined) throw new Error('a block decided without its spectra');
      seen.set(key(decided.decision), {
        decision: decided.decision,
        data: data.slice(),
        mask: decided.mask.slice(),
      });
    },
  });
  outcome = await service.done;
  metricsText = await metrics.registry.metrics();
}, 60_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function folders(kind: 'normal' | 'review'): Promise<string[]> {
  const parent = join(captures, kind, 'line1');
  return (await readdir(parent)).sort().map((name) => join(parent, name));
}

describe('sinks.capture in the service', () => {
  it('captures every decided block, anomalous ones for review and normal ones as training data', async () => {
    expect(outcome.code).toBe(0);
    expect(outcome.decisions).toBe(24);
    const decided = [...seen.values()];
    const anomalous = decided.filter((s) => s.decision.anomalous).length;
    expect(anomalous).toBeGreaterThan(0);
    expect(anomalous).toBeLessThan(24);
    expect(await folders('review')).toHaveLength(anomalous);
    expect(await folders('normal')).toHaveLength(24 - anomalous);
    expect(metricsText).toContain(`cubestream_captures_total{camera="line1",kind="anomalous"} ${anomalous}`);
    expect(metricsText).toContain(
      `cubestream_captures_total{camera="line1",kind="normal"} ${24 - anomalous}`,
    );
    expect(metricsText).toContain('cubestream_capture_dropped_total{camera="line1",reason="queue_full"} 0');
    expect(metricsText).toMatch(/cubestream_capture_bytes [1-9]\d*/);
  });

  it('writes cubes that read back with the ENVI reader equal to the decided blocks (uint16 counts, wavelengths)', async () => {
    for (const folder of [...(await folders('review')), ...(await folders('normal'))]) {
      const meta = JSON.parse(
        await readFile(join(folder, CAPTURE_FILES.metadata), 'utf8'),
      ) as CaptureMetadata;
      const block = seen.get(key(meta));
      expect(block, folder).toBeDefined();
      expect(meta.kind).toBe(block?.decision.anomalous === true ? 'anomalous' : 'normal');
      const cube = await readEnviCube(join(folder, CAPTURE_FILES.cube));
      expect(cube).toMatchObject({ lines: 8, samples: 32, bands: 61, wavelengthUnits: 'nm' });
      expect(cube.header.dataType).toBe(12);
      expect(cube.header.fields['cubestream camera id']).toBe('line1');
      expect(cube.header.fields['cubestream model version']).toBe('demo-lentils-2');
      expect(cube.data).toEqual(block?.data);
      expect(await readEnviMask(join(folder, CAPTURE_FILES.predictedMask))).toEqual(block?.mask);
      const decision = JSON.parse(await readFile(join(folder, CAPTURE_FILES.decision), 'utf8')) as Decision;
      expect(decision).toEqual(block?.decision);
    }
  });

  it('leaves a folder of normal captures that `cubestream train` takes as it is', async () => {
    const io = captureIO();
    const code = await runCli(
      [
        'train',
        '--config',
        join(REPO_ROOT, 'configs/trainrun/capture.yaml'),
        '--data',
        join(captures, 'normal', 'line1'),
        '--out',
        join(dir, 'runs'),
        '--set',
        'trainer.epochs=1',
      ],
      io,
    );
    expect(code, io.stderr()).toBe(0);
    const [run] = await readdir(join(dir, 'runs'));
    const bundle = await loadBundle(join(dir, 'runs', run as string, 'model'));
    expect(bundle.manifest.input.bands).toBe(61);
    const card = bundle.card as { data?: { files?: unknown[] } };
    expect(card.data?.files).toHaveLength(24 - [...seen.values()].filter((s) => s.decision.anomalous).length);
  }, 120_000);
});
