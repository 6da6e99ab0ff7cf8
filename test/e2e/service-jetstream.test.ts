/**
 * A `source.kind: jetstream` worker end to end against a real `nats-server -js` started here:
 * frames published by the camera gateway before any worker runs are all decided, each frame is
 * acknowledged once its decision is stored, a worker stopped mid-stream hands over to the next
 * on the same durable consumer, and frames decided twice are stored once (Nats-Msg-Id).
 */
import { type ConsumerInfo, type JetStreamManager, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDecision } from '../../connectors/codec/decision-json.js';
import { JetStreamFramePublisher } from '../../connectors/sinks/frame-publisher.js';
import type { DecisionSink, PublishOutcome } from '../../connectors/sinks/sink.js';
import { decisionMsgId } from '../../connectors/sinks/topics.js';
import { simulatedLineScan } from '../../connectors/sources/simulated-line-scan.js';
import { DecisionPublisher } from '../../src/app/service/decision-publisher.js';
import { resolveDemoModelDir } from '../../src/app/service/demo-settings.js';
import {
  expectedCameraIds,
  loadRunConfig,
  type RunConfig,
  RunConfigSchema,
} from '../../src/app/service/run-config.js';
import { type RunningService, startService } from '../../src/app/service/service.js';
import type { Decision } from '../../src/core/decision.js';
import { createFrame } from '../../src/core/frame.js';
import { validateConfig } from '../../src/core/validate.js';
import { createLogger } from '../../src/telemetry/logger.js';
import { createMetrics } from '../../src/telemetry/metrics.js';
import { brokersInstalled, startNatsServer, type TestBroker } from '../helpers/brokers.js';
import { makeDecision } from '../helpers/decision-fixture.js';
import { waitFor } from '../helpers/mqtt-collector.js';

const skip = !brokersInstalled && process.env.CI !== 'true';
const logger = createLogger({ level: 'silent' });

/** Frames of a 32-px simulated camera (blocks of 8 lines, the demo model's bands) into the frames stream. */
async function publishFrames(url: string, prefix: string, blocks: number): Promise<string[]> {
  const publisher = await JetStreamFramePublisher.connect({
    servers: url,
    subjectPrefix: prefix,
    stream: { name: `${prefix.toUpperCase()}_FRAMES` },
    cameraIds: ['cam0'],
  });
  const ids: string[] = [];
  const camera = simulatedLineScan({
    cameraId: 'cam0',
    width: 32,
    blockRows: 8,
    seed: 5,
    anomalyRate: 0.1,
    maxBlocks: blocks,
    demand: publisher.demand,
  });
  await new Promise<void>((resolve, reject) => {
    camera.frames.subscribe({
      next: (frame) => {
        ids.push(decisionMsgId(frame));
        void publisher.publish(frame).finally(() => frame.release?.());
      },
      error: reject,
      complete: resolve,
    });
  });
  await publisher.flush(20_000);
  await publisher.close();
  return ids;
}

/** A worker: the frames stream through a durable consumer -> demo model -> decisions on JetStream. */
function workerConfig(url: string, prefix: string, durable: string): RunConfig {
  return validateConfig(
    RunConfigSchema,
    {
      source: {
        kind: 'jetstream',
        servers: url,
        stream: `${prefix.toUpperCase()}_FRAMES`,
        subjectPrefix: prefix,
        durable,
        cameraIds: ['cam0'],
        ackWaitSeconds: 5,
        maxAckPending: 8,
      },
      model: { path: resolveDemoModelDir() },
      pipeline: { backpressure: { capacity: 4 } },
      sinks: {
        nats: {
          servers: url,
          subjectPrefix: prefix,
          stream: { name: `${prefix.toUpperCase()}_DECISIONS` },
          publishTimeoutMs: 2_000,
          connectTimeoutMs: 5_000,
        },
      },
      metrics: { port: 0, host: '127.0.0.1' },
      viewer: { enabled: false },
      shutdown: { deadlineMs: 15_000 },
    },
    'test',
  );
}

/** Every decision stored in a stream, with its Nats-Msg-Id. */
async function stored(
  jsm: JetStreamManager,
  stream: string,
): Promise<{ msgId: string | undefined; decision: Decision }[]> {
  const info = await jsm.streams.info(stream);
  const out: { msgId: string | undefined; decision: Decision }[] = [];
  for (let seq = info.state.first_seq; info.state.messages > 0 && seq <= info.state.last_seq; seq++) {
    const msg = await jsm.streams.getMessage(stream, { seq });
    if (msg !== null) out.push({ msgId: msg.header.get('Nats-Msg-Id'), decision: parseDecision(msg.data) });
  }
  return out;
}

/** Polls the consumer (once it exists) until nothing is pending or awaiting its ack. */
async function drained(jsm: JetStreamManager, stream: string, durable: string): Promise<ConsumerInfo> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    // The worker creates its consumer once its source opens, just after the service started.
    const info = await jsm.consumers.info(stream, durable).catch((error: unknown) => {
      if (Date.now() > deadline) throw error;
      return undefined;
    });
    if (info !== undefined && info.num_ack_pending === 0 && info.num_pending === 0) return info;
    if (info !== undefined && Date.now() > deadline) return info;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A sink whose publishes resolve when the test says, with the outcome it says. */
function manualSink(name: string): DecisionSink & { settle(outcome: PublishOutcome): void } {
  const waiting: ((outcome: PublishOutcome) => void)[] = [];
  return {
    name,
    connected: true,
    pending: 0,
    connect: async () => undefined,
    publish: () => new Promise<PublishOutcome>((resolve) => waiting.push(resolve)),
    flush: async () => undefined,
    close: async () => undefined,
    settle: (outcome) => waiting.shift()?.(outcome),
  };
}

describe('source.kind: jetstream in a run configuration', () => {
  it('loads configs/run/jetstream-worker.yaml with the schema defaults and its cameras', async () => {
    const config = await loadRunConfig('configs/run/jetstream-worker.yaml', [
      'source.servers=nats://10.0.0.1:4222',
    ]);
    expect(config.source).toMatchObject({
      kind: 'jetstream',
      servers: 'nats://10.0.0.1:4222',
      stream: 'CUBESTREAM_FRAMES',
      durable: 'cubestream-worker',
      ackWaitSeconds: 30,
      maxAckPending: 16,
      maxDeliver: 5,
    });
    expect(expectedCameraIds(config)).toEqual(['cam0']);
    expect(config.sinks.nats?.mode).toBe('jetstream');
  });

  it('refuses assemble: frame (a frame assembled from blocks would carry one block ack)', () => {
    const result = RunConfigSchema.safeParse({
      source: { kind: 'jetstream', servers: 'nats://n' },
      model: { path: 'm' },
      pipeline: { decide: { assemble: 'frame' } },
    });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual(['pipeline', 'decide', 'assemble']);
  });
});

describe('DecisionPublisher: the frame ack waits for every sink', () => {
  it('calls onDelivered only once every sink acknowledged, never for a queued or dropped decision', async () => {
    const [a, b] = [manualSink('a'), manualSink('b')];
    const publisher = new DecisionPublisher({
      sinks: [a, b],
      metrics: createMetrics({ defaultMetrics: false }),
      logger,
    });
    const delivered: number[] = [];
    publisher.publish(makeDecision({ frameId: 1 }), () => delivered.push(1));
    publisher.publish(makeDecision({ frameId: 2 }), () => delivered.push(2));
    publisher.publish(makeDecision({ frameId: 3 }), () => delivered.push(3));
    a.settle('acked');
    await new Promise((r) => setImmediate(r));
    expect(delivered).toEqual([]);
    b.settle('acked');
    a.settle('acked');
    b.settle('queued');
    a.settle('dropped');
    b.settle('acked');
    await publisher.settled();
    expect(delivered).toEqual([1]);
  });
});

describe.skipIf(skip)('cubestream worker on JetStream (source.kind: jetstream)', () => {
  let nats: TestBroker;
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  beforeAll(async () => {
    nats = await startNatsServer();
    nc = await connect({ servers: nats.url });
    jsm = await jetstreamManager(nc);
  });
  afterAll(async () => {
    await nc?.close();
    await nats?.dispose();
  });

  /** Starts a worker that records the decision ids it made. */
  async function worker(prefix: string, durable: string, decided: string[]): Promise<RunningService> {
    return startService(workerConfig(nats.url, prefix, durable), {
      logger,
      onDecision: (d) => decided.push(decisionMsgId(d.decision)),
    });
  }

  it('decides every frame stored before the worker started and acknowledges each; a replay is stored once', async () => {
    const N = 24;
    const ids = await publishFrames(nats.url, 'jw1', N);
    expect(new Set(ids).size).toBe(N);
    const decided: string[] = [];
    const service = await worker('jw1', 'worker', decided);
    await waitFor(() => decided.length >= N, `${N} decisions`, 40_000);
    const outcome = await service.stop('test done');
    expect(outcome).toMatchObject({ code: 0, frames: N, decisions: N, dropped: 0, rejected: 0 });

    const inStream = await stored(jsm, 'JW1_DECISIONS');
    expect(inStream).toHaveLength(N);
    expect(inStream.map((s) => s.msgId).sort()).toEqual([...ids].sort());
    expect(inStream.every((s) => s.msgId === decisionMsgId(s.decision))).toBe(true);
    const consumer = await drained(jsm, 'JW1_FRAMES', 'worker');
    expect(consumer.num_ack_pending).toBe(0);
    expect(consumer.num_pending).toBe(0);
    expect(consumer.ack_floor.stream_seq).toBe(N);

    // Another durable delivers every frame again: the same decision ids, so nothing new is stored.
    const again: string[] = [];
    const replay = await worker('jw1', 'replay', again);
    await waitFor(() => again.length >= N, `${N} decisions again`, 40_000);
    await replay.stop('test done');
    expect([...again].sort()).toEqual([...ids].sort());
    expect(await drained(jsm, 'JW1_FRAMES', 'replay')).toMatchObject({ num_ack_pending: 0, num_pending: 0 });
    expect(await stored(jsm, 'JW1_DECISIONS')).toHaveLength(N);
  }, 55_000);

  it('a worker stopped mid-stream hands the rest to the next one on the same durable consumer', async () => {
    const N = 40;
    const ids = await publishFrames(nats.url, 'jw2', N);
    const decided: string[] = [];
    const first = await worker('jw2', 'worker', decided);
    await waitFor(() => decided.length >= 8, 'some decisions', 40_000);
    const stopped = await first.stop('handing over');
    expect(stopped.code).toBe(0);
    expect(stopped.decisions).toBeLessThan(N);
    const byFirst = decided.length;

    const second = await worker('jw2', 'worker', decided);
    await waitFor(() => new Set(decided).size >= N, 'every frame decided', 40_000);
    await second.stop('test done');

    expect(new Set(decided)).toEqual(new Set(ids));
    const inStream = await stored(jsm, 'JW2_DECISIONS');
    expect(inStream.map((s) => s.msgId).sort()).toEqual([...ids].sort());
    const consumer = await drained(jsm, 'JW2_FRAMES', 'worker');
    expect(consumer.num_ack_pending).toBe(0);
    expect(consumer.num_pending).toBe(0);
    console.info(
      `handover: ${byFirst} decided by the first worker, ${decided.length - byFirst} by the second; ` +
        `${decided.length - N} decided twice, ${inStream.length} stored (one per frame)`,
    );
  }, 55_000);

  it('acknowledges a frame the pipeline rejects once its unknown decision is stored', async () => {
    const publisher = await JetStreamFramePublisher.connect({
      servers: nats.url,
      subjectPrefix: 'jw3',
      stream: { name: 'JW3_FRAMES' },
    });
    // 3 bands where the demo model expects 61: rejected by the pipeline (reason bands).
    for (const frameId of [0, 1]) {
      await publisher.publish(
        createFrame({
          cameraId: 'cam0',
          frameId,
          capturedAt: 1_700_000_000_000 + frameId,
          height: 2,
          width: 2,
          bands: 3,
          wavelengths: [500, 600, 700],
          data: new Float32Array(12).fill(1),
        }),
      );
    }
    await publisher.flush(10_000);
    await publisher.close();
    const decided: string[] = [];
    const service = await worker('jw3', 'worker', decided);
    const consumer = await drained(jsm, 'JW3_FRAMES', 'worker');
    const outcome = await service.stop('test done');
    expect(outcome).toMatchObject({ code: 0, frames: 2, decisions: 0, rejected: 2 });
    expect(consumer).toMatchObject({ num_ack_pending: 0, num_pending: 0 });
    const inStream = await stored(jsm, 'JW3_DECISIONS');
    expect(inStream.map((s) => [s.msgId, s.decision.verdict, s.decision.reason])).toEqual([
      ['cam0:1700000000000:0:0', 'unknown', 'rejected:bands'],
      ['cam0:1700000000001:1:0', 'unknown', 'rejected:bands'],
    ]);
  }, 30_000);
});
