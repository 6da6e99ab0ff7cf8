import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseDecision } from '../../../connectors/codec/decision-json.js';
import { FileDecisionSink } from '../../../connectors/sinks/file-sink.js';
import { DecisionPublisher } from '../../../src/app/service/decision-publisher.js';
import { createLogger } from '../../../src/telemetry/logger.js';
import { createMetrics } from '../../../src/telemetry/metrics.js';
import { makeDecisions } from '../../helpers/decision-fixture.js';
import { parsePromText, promValue } from './prom-text.js';

const logger = createLogger({ level: 'silent' });
let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cubestream-publisher-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('DecisionPublisher', () => {
  it('hands every decision to every sink without waiting, records latency of acked ones, and settles', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const sinks = [
      new FileDecisionSink({ path: join(dir, 'a.jsonl'), name: 'a' }),
      new FileDecisionSink({ path: join(dir, 'b.jsonl'), name: 'b' }),
    ];
    for (const sink of sinks) await sink.connect();
    const published: number[] = [];
    const now = 1_700_000_000_500;
    const publisher = new DecisionPublisher({
      sinks,
      metrics,
      logger,
      now: () => now,
      onPublished: (_decision, latency) => published.push(latency ?? Number.NaN),
    });
    const decisions = makeDecisions(5);
    for (const d of decisions) publisher.publish(d);
    expect(publisher.pending).toBe(5);
    await publisher.settled();
    expect(publisher.pending).toBe(0);
    expect(publisher.totals).toEqual({ decisions: 5, acked: 10, queued: 0, failed: 0 });
    // capturedAt is 1_700_000_000_000 + frameId: 499 ms .. 495 ms before `now`.
    expect(published).toEqual([0.499, 0.498, 0.497, 0.496, 0.495]);
    const samples = parsePromText(await metrics.registry.metrics());
    expect(promValue(samples, 'cubestream_frame_latency_seconds_count', { camera: 'cam1' })).toBe(5);
    for (const sink of sinks) await sink.close();
    const lines = (await readFile(join(dir, 'b.jsonl'), 'utf8')).trim().split('\n');
    expect(lines.map((l) => parseDecision(l).frameId)).toEqual([1, 2, 3, 4, 5]);
  });

  it('counts a decision a closed sink refuses in publish_errors_total and still delivers it elsewhere', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const open = new FileDecisionSink({ path: join(dir, 'open.jsonl'), name: 'open' });
    const closed = new FileDecisionSink({ path: join(dir, 'closed.jsonl'), name: 'closed' });
    await open.connect();
    await closed.connect();
    await closed.close();
    const delivered: number[] = [];
    const publisher = new DecisionPublisher({
      sinks: [open, closed],
      metrics,
      logger,
      onPublished: (d) => delivered.push(d.frameId),
    });
    for (const d of makeDecisions(3)) publisher.publish(d);
    await publisher.settled();
    expect(publisher.totals).toEqual({ decisions: 3, acked: 3, queued: 0, failed: 3 });
    expect(delivered).toEqual([]);
    const samples = parsePromText(await metrics.registry.metrics());
    expect(promValue(samples, 'cubestream_publish_errors_total', { sink: 'closed' })).toBe(3);
    expect(promValue(samples, 'cubestream_frame_latency_seconds_count')).toBe(0);
    await open.close();
    expect((await readFile(join(dir, 'open.jsonl'), 'utf8')).trim().split('\n')).toHaveLength(3);
  });
});
