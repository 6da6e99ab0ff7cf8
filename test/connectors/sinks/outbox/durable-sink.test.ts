import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  PublishRejectedError,
  SinkAuthError,
  SinkClosedError,
  SinkConnectTimeoutError,
} from '../../../../connectors/sinks/errors.js';
import {
  DurableDecisionSink,
  outboxHooks,
  sinkJournal,
} from '../../../../connectors/sinks/outbox/durable-sink.js';
import type {
  DecisionSink,
  DropReason,
  PublishOutcome,
  SinkHooks,
} from '../../../../connectors/sinks/sink.js';
import type { Decision } from '../../../../src/core/decision.js';
import { createMetrics } from '../../../../src/telemetry/metrics.js';
import { makeDecision, makeDecisions } from '../../../helpers/decision-fixture.js';
import { capturedLogger, shortKey, tempDir } from './helpers.js';

/** A sink whose broker the test plays: it queues everything and acks or drops on command. */
class FakeSink implements DecisionSink {
  readonly name = 'fake';
  connected = false;
  readonly published: Decision[] = [];
  /** Journal lines on disk when each decision reached the sink. */
  readonly journaledBefore: boolean[] = [];
  connectError: Error | undefined;
  publishError: Error | undefined;
  closed = false;

  constructor(
    private readonly hooks: SinkHooks,
    private readonly journalDir: string,
  ) {}

  get pending(): number {
    return this.published.length;
  }

  async connect(): Promise<void> {
    if (this.connectError !== undefined) throw this.connectError;
    this.connected = true;
  }

  async publish(decision: Decision): Promise<PublishOutcome> {
    const onDisk = readdirSync(this.journalDir)
      .map((name) => readFileSync(path.join(this.journalDir, name), 'utf8'))
      .join('');
    this.journaledBefore.push(onDisk.includes(`"frameId":${decision.frameId},`));
    if (this.publishError !== undefined) throw this.publishError;
    if (this.closed) throw new SinkClosedError(this.name);
    this.published.push(decision);
    return 'queued';
  }

  ack(decision: Decision): void {
    this.hooks.onDelivered?.(decision);
  }

  drop(decision: Decision, reason: DropReason): void {
    this.hooks.onDrop?.({ sink: this.name, reason, destination: 'x', decision });
  }

  async flush(): Promise<void> {}

  async close(): Promise<void> {
    this.closed = true;
    for (const d of this.published) this.drop(d, 'closed');
  }
}

describe('DurableDecisionSink', () => {
  let tmp: { dir: string; dispose: () => Promise<void> };
  beforeEach(async () => {
    tmp = await tempDir();
  });
  afterEach(async () => {
    await tmp.dispose();
  });

  function durable(metrics = createMetrics({ defaultMetrics: false })) {
    const { logger, lines } = capturedLogger();
    const hooks = { logger, metrics };
    const journal = sinkJournal({ dir: tmp.dir }, 'fake', hooks);
    const delivered: Decision[] = [];
    const inner = new FakeSink(
      outboxHooks(journal, { ...hooks, onDelivered: (d: Decision) => delivered.push(d) }),
      journal.dir,
    );
    return {
      sink: new DurableDecisionSink(inner, journal, hooks),
      inner,
      journal,
      lines,
      metrics,
      delivered,
    };
  }

  it('journals a decision before the wrapped sink gets it, and passes deliveries on to the caller', async () => {
    const { sink, inner, journal, delivered } = durable();
    await sink.connect();
    const [a, b] = makeDecisions(2) as [Decision, Decision];
    expect(await sink.publish(a)).toBe('queued');
    await sink.publish(b);
    expect(inner.journaledBefore).toEqual([true, true]);
    expect(journal.dir).toBe(path.join(tmp.dir, 'fake'));
    inner.ack(a);
    expect(delivered).toEqual([a]);
    expect(journal.pendingDecisions()).toEqual([b]);
    await sink.close();
  });

  it('replays, at the next connect and before any new decision, what was neither acked nor given up on', async () => {
    const first = durable();
    await first.sink.connect();
    const decisions = makeDecisions(6);
    for (const d of decisions) await first.sink.publish(d);
    const [d1, d2, d3] = decisions as [Decision, Decision, Decision];
    first.inner.ack(d1);
    first.inner.drop(d2, 'overflow'); // counted by the sink: resolved
    first.inner.drop(d3, 'rejected');
    await first.sink.close(); // 4..6 dropped as `closed`: kept
    expect(
      first.lines.some(
        (l) =>
          l.msg === 'decisions not delivered are kept in the outbox for the next start' && l.decisions === 3,
      ),
    ).toBe(true);

    const metrics = createMetrics({ defaultMetrics: false });
    expect(await metrics.registry.metrics()).not.toContain('cubestream_outbox_replayed_total{sink="fake"}');
    const second = durable(metrics);
    expect(await metrics.registry.metrics()).toContain('cubestream_outbox_replayed_total{sink="fake"} 0');
    await second.sink.connect();
    await second.sink.publish(makeDecision({ frameId: 7 }));
    expect(second.inner.published.map(shortKey)).toEqual(['cam1/4', 'cam1/5', 'cam1/6', 'cam1/7']);
    const text = await metrics.registry.metrics();
    expect(text).toContain('cubestream_outbox_replayed_total{sink="fake"} 3');
    expect(text).toContain('cubestream_outbox_pending{sink="fake"} 4');
    expect(second.lines.find((l) => l.msg === 'replaying decisions kept in the outbox')).toMatchObject({
      sink: 'fake',
      decisions: 3,
    });
    // Replayed decisions resolve like new ones.
    for (const d of second.inner.published) second.inner.ack(d);
    expect(second.journal.pending).toBe(0);
    await second.sink.close();
  });

  it('replays after a connect timeout (the decisions wait in the sink queue), not after a permanent error', async () => {
    const first = durable();
    await first.sink.connect();
    for (const d of makeDecisions(2)) await first.sink.publish(d);
    await first.sink.close();

    const refused = durable();
    refused.inner.connectError = new SinkAuthError('fake', 'x://y', 'not authorized');
    await expect(refused.sink.connect()).rejects.toThrow(SinkAuthError);
    expect(refused.inner.published).toEqual([]);
    await refused.sink.close();

    const slow = durable();
    slow.inner.connectError = new SinkConnectTimeoutError('fake', 'x://y', 10);
    await expect(slow.sink.connect()).rejects.toThrow(SinkConnectTimeoutError);
    expect(slow.inner.published.map(shortKey)).toEqual(['cam1/1', 'cam1/2']);
    await slow.sink.close();
  });

  it('forgets a decision the broker refused for good, keeps one refused because the sink was closed', async () => {
    const { sink, inner, journal } = durable();
    await sink.connect();
    inner.publishError = new PublishRejectedError('fake', 'x', 'too big');
    await expect(sink.publish(makeDecision({ frameId: 1 }))).rejects.toThrow(PublishRejectedError);
    inner.publishError = new SinkClosedError('fake');
    await expect(sink.publish(makeDecision({ frameId: 2 }))).rejects.toThrow(SinkClosedError);
    expect(journal.pendingDecisions().map(shortKey)).toEqual(['cam1/2']);
    await sink.close();
    await expect(sink.publish(makeDecision({ frameId: 3 }))).rejects.toThrow(SinkClosedError);
  });
});
