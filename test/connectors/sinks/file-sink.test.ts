import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseDecision } from '../../../connectors/codec/decision-json.js';
import {
  DeadLetterSink,
  type DeadLetterTarget,
  deadLetterFromError,
  JsonlDeadLetterFile,
} from '../../../connectors/sinks/dead-letter.js';
import { SinkClosedError } from '../../../connectors/sinks/errors.js';
import { FileDecisionSink } from '../../../connectors/sinks/file-sink.js';
import { CubestreamError } from '../../../src/core/errors.js';
import { createLogger } from '../../../src/telemetry/logger.js';
import { createMetrics } from '../../../src/telemetry/metrics.js';
import { makeDecisions } from '../../helpers/decision-fixture.js';

const logger = createLogger({ level: 'silent' });

describe('FileDecisionSink', () => {
  let dir = '';
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'cubestream-file-sink-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('appends one schema-valid JSON line per decision and keeps earlier content', async () => {
    const file = path.join(dir, 'nested', 'decisions.jsonl');
    const decisions = makeDecisions(25);
    const first = new FileDecisionSink({ path: file, logger });
    await first.connect();
    expect(first.connected).toBe(true);
    const outcomes = await Promise.all(decisions.slice(0, 20).map((d) => first.publish(d)));
    expect(outcomes.every((o) => o === 'acked')).toBe(true);
    await first.close();
    expect(first.connected).toBe(false);

    const second = new FileDecisionSink({ path: file, logger });
    await second.connect();
    for (const d of decisions.slice(20)) void second.publish(d);
    await second.flush(5_000);
    await second.close();

    const lines = (await readFile(file, 'utf8')).split('\n').filter((l) => l.length > 0);
    expect(lines.map((l) => parseDecision(l))).toEqual(decisions);
  });

  it('rejects publishes after close', async () => {
    const sink = new FileDecisionSink({ path: path.join(dir, 'd.jsonl'), logger });
    await sink.connect();
    await sink.close();
    await expect(sink.publish(makeDecisions(1)[0]!)).rejects.toBeInstanceOf(SinkClosedError);
  });

  it('counts a failed write as a publish error and rejects', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const sink = new FileDecisionSink({ path: path.join(dir, 'd.jsonl'), logger, metrics });
    await sink.connect();
    // Close the underlying file behind the sink's back: the next write fails with EBADF.
    const appender = (sink as unknown as { file: { handle: { close(): Promise<void> } } }).file;
    await appender.handle.close();
    await expect(sink.publish(makeDecisions(1)[0]!)).rejects.toThrow(/EBADF|closed/);
    expect(await metrics.registry.metrics()).toContain('cubestream_publish_errors_total{sink="file"} 1');
  });
});

describe('DeadLetterSink', () => {
  let dir = '';
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'cubestream-dead-letter-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('fans out to every target and counts a failing one without throwing', async () => {
    const file = new JsonlDeadLetterFile({ path: path.join(dir, 'dead.jsonl') });
    await file.open();
    const failing: DeadLetterTarget = {
      name: 'broken',
      publishDeadLetter: () => Promise.reject(new Error('broker gone')),
    };
    const metrics = createMetrics({ defaultMetrics: false });
    const errors: Error[] = [];
    const sink = new DeadLetterSink([file, failing], { metrics, logger, onError: (e) => errors.push(e) });
    const letter = deadLetterFromError(new CubestreamError('nonfinite', 'cube[3]: NaN'), {
      cameraId: 'cam1',
      frameId: 4,
      at: 1000,
      metadata: { bytes: 1234 },
    });
    const result = await sink.publish(letter);
    expect(result['deadletter-file']).toBe('acked');
    expect(result.broken).toBeInstanceOf(Error);
    expect(errors.map((e) => e.message)).toEqual(['broker gone']);
    expect(await metrics.registry.metrics()).toContain('cubestream_publish_errors_total{sink="broken"} 1');
    await file.close();
    const lines = (await readFile(path.join(dir, 'dead.jsonl'), 'utf8')).trim().split('\n');
    expect(lines.map((l) => JSON.parse(l))).toEqual([
      {
        schema: 'cubestream.deadletter/1',
        reason: 'nonfinite',
        message: 'cube[3]: NaN',
        cameraId: 'cam1',
        frameId: 4,
        at: 1000,
        bytes: 1234,
      },
    ]);
  });
});
