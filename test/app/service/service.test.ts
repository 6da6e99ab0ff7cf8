import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseDecision } from '../../../connectors/codec/decision-json.js';
import { resolveDemoModelDir } from '../../../src/app/service/demo-settings.js';
import { type RunConfig, type RunConfigInput, RunConfigSchema } from '../../../src/app/service/run-config.js';
import { startService } from '../../../src/app/service/service.js';
import { PortInUseError } from '../../../src/app/service/service-errors.js';
import { validateConfig } from '../../../src/core/validate.js';
import { createLogger } from '../../../src/telemetry/logger.js';
import { METRIC_NAMES, METRIC_PREFIX } from '../../../src/telemetry/metrics.js';
import { waitFor } from '../../helpers/mqtt-collector.js';
import { parsePromText, promFamilies, promValue } from './prom-text.js';

const logger = createLogger({ level: 'silent' });
let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cubestream-service-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A small simulated camera (32 px, blocks of 8 lines, 61 bands as the demo model expects). */
function config(source: Record<string, unknown>, extra: Partial<RunConfigInput> = {}): RunConfig {
  return validateConfig(
    RunConfigSchema,
    {
      source: { kind: 'simulated', width: 32, blockRows: 8, seed: 3, anomalyRate: 0.2, ...source },
      model: { path: resolveDemoModelDir() },
      sinks: { file: { path: join(dir, 'decisions.jsonl') }, deadLetter: { file: join(dir, 'dead.jsonl') } },
      metrics: { port: 0, host: '127.0.0.1' },
      viewer: { enabled: false },
      // Longer than any run here: a busy machine delays blocks but never drops one.
      pipeline: { backpressure: { capacity: 256 } },
      ...extra,
    },
    'test',
  );
}

async function lines(file: string): Promise<string[]> {
  return (await readFile(file, 'utf8')).split('\n').filter((line) => line !== '');
}

describe('startService', () => {
  it('decides every block of a finite source, publishes each once, and stops by itself with code 0', async () => {
    const service = await startService(config({ maxBlocks: 12 }), { logger });
    const outcome = await service.done;
    expect(outcome).toMatchObject({
      code: 0,
      reason: 'source ended',
      frames: 12,
      decisions: 12,
      dropped: 0,
      rejected: 0,
    });
    const decisions = (await lines(join(dir, 'decisions.jsonl'))).map((line) => parseDecision(line));
    expect(decisions).toHaveLength(12);
    expect(new Set(decisions.map((d) => `${d.frameId}:${d.rowOffset}`)).size).toBe(12);
    expect(
      decisions.every(
        (d) => d.cameraId === 'cam0' && d.modelVersion === 'demo-lentils-2' && d.pixels === 256,
      ),
    ).toBe(true);
    // anomalyRate 0.2 on a belt this narrow: some blocks carry a foreign body, some do not.
    expect(decisions.some((d) => d.anomalous)).toBe(true);
  });

  it('serves every docs/metrics.md metric fed by the stream, /readyz 200 while running, and drains on stop()', async () => {
    const service = await startService(
      config({ linesPerSecond: 160 }, { viewer: { enabled: true, port: 0, host: '127.0.0.1' } }),
      { logger },
    );
    await waitFor(() => service.stats.decisions >= 5, 'five decisions', 20_000);

    const ready = await fetch(`${service.telemetryUrl}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({
      status: 'ready',
      checks: { model: { ok: true, detail: 'demo-lentils-2' }, 'sink:file': { ok: true } },
    });
    const text = await (await fetch(`${service.telemetryUrl}/metrics`)).text();
    const families = promFamilies(text);
    for (const name of METRIC_NAMES) expect(families, name).toContain(`${METRIC_PREFIX}${name}`);
    const samples = parsePromText(text);
    const camera = { camera: 'cam0' };
    expect(promValue(samples, 'cubestream_frames_received_total', camera)).toBeGreaterThanOrEqual(5);
    expect(promValue(samples, 'cubestream_decisions_total', camera)).toBeGreaterThanOrEqual(5);
    expect(promValue(samples, 'cubestream_pixels_scored_total')).toBeGreaterThanOrEqual(5 * 256);
    expect(promValue(samples, 'cubestream_stage_duration_seconds_count', { stage: 'score' })).toBeGreaterThan(
      0,
    );
    expect(
      promValue(samples, 'cubestream_stage_duration_seconds_count', { stage: 'decide' }),
    ).toBeGreaterThan(0);
    expect(promValue(samples, 'cubestream_frame_latency_seconds_count', camera)).toBeGreaterThan(0);
    expect(promValue(samples, 'cubestream_threshold', camera)).toBeGreaterThan(0);
    expect(promValue(samples, 'cubestream_broker_connected', { sink: 'file' })).toBe(1);
    expect(promValue(samples, 'cubestream_model_info', { version: 'demo-lentils-2' })).toBe(1);
    expect(samples.some((s) => s.name === 'cubestream_queue_depth' && s.labels.camera === 'cam0')).toBe(true);
    expect(
      samples.some((s) => s.name === 'cubestream_anomalous_pixels_ratio' && s.labels.camera === 'cam0'),
    ).toBe(true);
    expect(service.viewerUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/viewer\/$/);
    const cameras = await (await fetch(new URL('cameras', service.viewerUrl))).json();
    expect(cameras).toMatchObject([{ cameraId: 'cam0', width: 32, bands: 61 }]);
    // Strips are drawn on the render worker and arrive in the snapshot as PNG data URLs.
    type Snapshot = { strips: { seq: number; rgb: string; heat: string }[] };
    let snapshot: Snapshot = { strips: [] };
    for (const deadline = Date.now() + 20_000; snapshot.strips.length === 0 && Date.now() < deadline; ) {
      snapshot = (await (await fetch(new URL('snapshot?camera=cam0', service.viewerUrl))).json()) as Snapshot;
      if (snapshot.strips.length === 0) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(snapshot.strips.length).toBeGreaterThan(0);
    expect(snapshot.strips[0]?.rgb).toMatch(/^data:image\/png;base64,/);
    expect(snapshot.strips.map((s) => s.seq)).toEqual(
      [...snapshot.strips.map((s) => s.seq)].sort((a, b) => a - b),
    );

    const outcome = await service.stop('test');
    expect(outcome).toMatchObject({ code: 0, reason: 'test', dropped: 0 });
    expect(outcome.decisions).toBe(outcome.frames);
    expect(await lines(join(dir, 'decisions.jsonl'))).toHaveLength(outcome.decisions);
    await expect(fetch(`${service.telemetryUrl}/healthz`)).rejects.toThrow();
    expect(await service.stop('again')).toBe(outcome);
  });

  it('refuses an ejector with frames assembled from blocks, naming the option, rather than fire early', async () => {
    const ejector = {
      lineRateHz: 640,
      beltSpeedMetresPerSecond: 1,
      distanceToValvesMetres: 0.3,
      valveCount: 8,
      valvePitchMetres: 0.004,
      pixelPitchMetres: 0.001,
    };
    const cfg = config(
      { maxBlocks: 2 },
      { ejector, pipeline: { decide: { assemble: 'frame' }, backpressure: { capacity: 256 } } },
    );
    await expect(startService(cfg, { logger })).rejects.toThrow(/ejector.*assemble: block/);
  });

  it('counts rejected frames by reason and writes each to the dead-letter file', async () => {
    // 30 bands where the model expects 61: every block is rejected before the model.
    const service = await startService(config({ maxBlocks: 3, bands: 30 }), { logger });
    const outcome = await service.done;
    expect(outcome).toMatchObject({ code: 0, frames: 3, decisions: 0, rejected: 3 });
    const samples = parsePromText(await service.metrics.registry.metrics());
    expect(promValue(samples, 'cubestream_frames_rejected_total', { camera: 'cam0', reason: 'bands' })).toBe(
      3,
    );
    const letters = (await lines(join(dir, 'dead.jsonl'))).map(
      (line) => JSON.parse(line) as Record<string, unknown>,
    );
    expect(letters.map((l) => [l.reason, l.cameraId, l.frameId, l.bands])).toEqual([
      ['bands', 'cam0', 0, 30],
      ['bands', 'cam0', 1, 30],
      ['bands', 'cam0', 2, 30],
    ]);
    expect(letters[0]?.schema).toBe('cubestream.deadletter/1');
    // Fail safe: each rejected block still yields a decision, verdict unknown, anomalous (divert).
    const decisions = (await lines(join(dir, 'decisions.jsonl'))).map((line) => parseDecision(line));
    expect(
      decisions.map((d) => [d.frameId, d.verdict, d.reason, d.anomalous, d.pixels, d.blobs.length]),
    ).toEqual([
      [0, 'unknown', 'rejected:bands', true, 0, 0],
      [1, 'unknown', 'rejected:bands', true, 0, 0],
      [2, 'unknown', 'rejected:bands', true, 0, 0],
    ]);
  });

  it('ends with code 1 when a sink cannot flush within the deadline, counting every decision it dropped', async () => {
    const closedPort = await new Promise<number>((resolve) => {
      const probe = net.createServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as net.AddressInfo;
        probe.close(() => resolve(port));
      });
    });
    const service = await startService(
      config(
        { maxBlocks: 3 },
        {
          sinks: { mqtt: { url: `mqtt://127.0.0.1:${closedPort}`, connectTimeoutMs: 100 } },
          shutdown: { deadlineMs: 1_000 },
        },
      ),
      { logger },
    );
    const outcome = await service.done;
    expect(outcome).toMatchObject({ code: 1, reason: 'source ended', frames: 3, decisions: 3 });
    expect(outcome.error?.message).toContain('mqtt sink: 3 message(s) still unacknowledged');
    const samples = parsePromText(await service.metrics.registry.metrics());
    expect(promValue(samples, 'cubestream_publish_errors_total', { sink: 'mqtt' })).toBe(3);
    expect(promValue(samples, 'cubestream_broker_connected', { sink: 'mqtt' })).toBe(0);
  });

  it('ends with code 1 and the error when the camera source fails', async () => {
    const cfg = validateConfig(
      RunConfigSchema,
      {
        source: { kind: 'envi', path: join(dir, 'missing.hdr') },
        model: { path: resolveDemoModelDir() },
        sinks: { file: { path: join(dir, 'decisions.jsonl') } },
        metrics: { port: 0, host: '127.0.0.1' },
        viewer: { enabled: false },
      },
      'test',
    );
    const service = await startService(cfg, { logger });
    const outcome = await service.done;
    expect(outcome).toMatchObject({ code: 1, reason: 'stream error', frames: 0, decisions: 0 });
    expect(outcome.error?.message).toContain('missing.hdr');
  });

  it('refuses to start on a taken metrics port, naming the setting, and closes what it opened', async () => {
    const blocker = net.createServer();
    blocker.listen(0, '127.0.0.1');
    await once(blocker, 'listening');
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      const start = startService(config({ maxBlocks: 1 }, { metrics: { port, host: '127.0.0.1' } }), {
        logger,
      });
      await expect(start).rejects.toThrow(PortInUseError);
      await expect(start).rejects.toThrow(`metrics.port: 127.0.0.1:${port} is already in use`);
    } finally {
      blocker.close();
    }
  });
});
