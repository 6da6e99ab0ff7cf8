/**
 * `jetstreamFrames` against a real `nats-server -js` started here: durable consumption of frames
 * stored before the source started, the consumer it creates, undecodable messages dead-lettered
 * and terminated, redelivery of a frame left unacknowledged, and the demand that bounds pulls.
 */
import { AckPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection, nanos } from '@nats-io/transport-node';
import type { Subscription } from 'rxjs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { encodeFrameMessage } from '../../../connectors/codec/frame-safetensors.js';
import { JetStreamFramePublisher } from '../../../connectors/sinks/frame-publisher.js';
import type { RejectedMessage } from '../../../connectors/sources/broker-frame-source.js';
import {
  type ExhaustedMessage,
  type JetStreamFramesOptions,
  jetstreamFrames,
} from '../../../connectors/sources/jetstream-frames.js';
import type { SourceState } from '../../../connectors/sources/source-state.js';
import { type CubeFrame, createFrame } from '../../../src/core/frame.js';
import { brokersInstalled, startNatsServer, type TestBroker } from '../../helpers/brokers.js';
import { waitFor } from '../../helpers/mqtt-collector.js';

const frame = (frameId: number, cameraId = 'cam-a'): CubeFrame =>
  createFrame({
    cameraId,
    frameId,
    capturedAt: 1_700_000_000_000 + frameId,
    height: 2,
    width: 2,
    bands: 3,
    wavelengths: [500, 600, 700],
    data: Float32Array.from({ length: 12 }, (_, i) => i + frameId),
  });

describe.skipIf(!brokersInstalled)('jetstreamFrames', () => {
  let nats: TestBroker;
  let nc: NatsConnection;
  const subscriptions: Subscription[] = [];
  beforeAll(async () => {
    nats = await startNatsServer();
    nc = await connect({ servers: nats.url });
  });
  afterEach(() => {
    for (const s of subscriptions.splice(0)) s.unsubscribe();
  });
  afterAll(async () => {
    await nc?.close();
    await nats?.dispose();
  });

  /** Publishes frames with the camera gateway into stream `stream` on `<prefix>.frames.<camera>`. */
  async function publish(
    prefix: string,
    stream: string,
    frames: readonly CubeFrame[],
    storage: 'file' | 'memory' = 'memory',
  ): Promise<void> {
    const publisher = await JetStreamFramePublisher.connect({
      servers: nats.url,
      subjectPrefix: prefix,
      stream: { name: stream, storage },
    });
    for (const f of frames) await publisher.publish(f);
    await publisher.flush(10_000);
    await publisher.close();
  }

  async function consumerInfo(stream: string, durable: string) {
    return (await jetstreamManager(nc)).consumers.info(stream, durable);
  }

  /** Starts a source and collects its frames (acked at once unless `ack` is false). */
  function start(options: Partial<JetStreamFramesOptions> & { ack?: boolean }) {
    const received: CubeFrame[] = [];
    const states: SourceState[] = [];
    const { ack = true, ...rest } = options;
    const source = jetstreamFrames({ servers: nats.url, ...rest });
    subscriptions.push(source.state.subscribe((s) => states.push(s)));
    const errors: Error[] = [];
    subscriptions.push(
      source.frames.subscribe({
        next: (f) => {
          received.push(f);
          if (ack) f.ack?.();
        },
        error: (error: Error) => errors.push(error),
      }),
    );
    return { received, states, errors };
  }

  it('consumes every frame stored before it started, each with an ack, and creates the durable consumer', async () => {
    await publish('jsa', 'JSA', [frame(0), frame(1), frame(2, 'cam-b'), frame(3)]);
    const { received } = start({
      subjectPrefix: 'jsa',
      stream: 'JSA',
      durable: 'worker-a',
      ackWaitSeconds: 7,
      maxAckPending: 3,
      maxDeliver: 4,
    });
    await waitFor(() => received.length >= 4, 'four frames', 15_000);
    expect(received.map((f) => [f.cameraId, f.frameId])).toEqual([
      ['cam-a', 0],
      ['cam-a', 1],
      ['cam-b', 2],
      ['cam-a', 3],
    ]);
    expect(received.every((f) => typeof f.ack === 'function')).toBe(true);
    expect(received[1]?.capturedAt).toBe(1_700_000_000_001);
    let info = await consumerInfo('JSA', 'worker-a');
    for (let i = 0; i < 100 && (info.num_ack_pending > 0 || info.num_pending > 0); i++) {
      await new Promise((r) => setTimeout(r, 50));
      info = await consumerInfo('JSA', 'worker-a');
    }
    expect(info.config).toMatchObject({
      durable_name: 'worker-a',
      ack_policy: AckPolicy.Explicit,
      ack_wait: nanos(7_000),
      max_ack_pending: 3,
      // one more than maxDeliver: that delivery is dead-lettered and terminated by the source
      max_deliver: 5,
      filter_subject: 'jsa.frames.>',
    });
    expect(info.num_ack_pending).toBe(0);
    expect(info.num_pending).toBe(0);
    expect(info.delivered.consumer_seq).toBe(4);
  });

  it('filters on one admitted camera, updates an existing consumer, and terminates refused cameras', async () => {
    await publish('jsf', 'JSF', [frame(0, 'cam-a'), frame(1, 'cam-z'), frame(2, 'cam-a')]);
    const jsm = await jetstreamManager(nc);
    await jsm.consumers.add('JSF', {
      durable_name: 'worker-f',
      ack_policy: AckPolicy.Explicit,
      ack_wait: nanos(60_000),
      filter_subject: 'jsf.frames.>',
    });
    const { received } = start({
      subjectPrefix: 'jsf',
      stream: 'JSF',
      durable: 'worker-f',
      cameras: { cameraIds: ['cam-a'], acceptUnlisted: false },
    });
    await waitFor(() => received.length >= 2, 'two frames', 15_000);
    const info = await consumerInfo('JSF', 'worker-f');
    expect(info.config.filter_subject).toBe('jsf.frames.cam-a');
    expect(info.config.ack_wait).toBe(nanos(30_000));
    expect(received.map((f) => f.frameId)).toEqual([0, 2]);

    // Two cameras: every camera's subject, and the one not admitted is dead-lettered and terminated.
    for (const s of subscriptions.splice(0)) s.unsubscribe();
    await publish('jsf', 'JSF', [frame(3, 'cam-z'), frame(4, 'cam-b')]);
    const rejected: RejectedMessage[] = [];
    const second = start({
      subjectPrefix: 'jsf',
      stream: 'JSF',
      durable: 'worker-f2',
      cameras: { cameraIds: ['cam-a', 'cam-b'], acceptUnlisted: false },
      onReject: (r) => rejected.push(r),
    });
    await waitFor(
      () => second.received.length >= 3 && rejected.length >= 2,
      'three frames, two refused',
      15_000,
    );
    expect(second.received.map((f) => f.frameId)).toEqual([0, 2, 4]);
    expect(rejected.map((r) => [r.channel, r.error.code])).toEqual([
      ['jsf.frames.cam-z', 'camera'],
      ['jsf.frames.cam-z', 'camera'],
    ]);
    const info2 = await consumerInfo('JSF', 'worker-f2');
    expect(info2.config.filter_subject).toBe('jsf.frames.>');
  });

  it('dead-letters an undecodable message and terminates it, then goes on', async () => {
    await publish('jsb', 'JSB', [frame(0)]);
    const js = jetstream(nc);
    await js.publish('jsb.frames.cam-a', new TextEncoder().encode('not a safetensors file'));
    await js.publish('jsb.frames.cam-a', encodeFrameMessage(frame(2)));
    const rejected: RejectedMessage[] = [];
    const { received } = start({
      subjectPrefix: 'jsb',
      stream: 'JSB',
      durable: 'worker-b',
      ackWaitSeconds: 1,
      onReject: (r) => rejected.push(r),
    });
    await waitFor(() => received.length >= 2 && rejected.length >= 1, 'two frames and a rejection', 15_000);
    expect(rejected[0]).toMatchObject({ channel: 'jsb.frames.cam-a', cameraId: 'cam-a' });
    expect(rejected[0]?.error.code).toBe('decode');
    // Terminated: after more than the ack wait it is neither pending nor delivered again.
    await new Promise((r) => setTimeout(r, 2_500));
    const info = await consumerInfo('JSB', 'worker-b');
    expect(info.num_ack_pending).toBe(0);
    expect(info.num_redelivered).toBe(0);
    expect(rejected).toHaveLength(1);
    expect(received.map((f) => f.frameId)).toEqual([0, 2]);
  });

  it('delivers a frame again after the ack wait when it was not acknowledged, and gives up after maxDeliver', async () => {
    await publish('jsc', 'JSC', [frame(7)]);
    const exhausted: ExhaustedMessage[] = [];
    const { received } = start({
      subjectPrefix: 'jsc',
      stream: 'JSC',
      durable: 'worker-c',
      ackWaitSeconds: 1,
      maxDeliver: 2,
      ack: false,
      onExhausted: (e) => exhausted.push(e),
    });
    await waitFor(() => received.length >= 2, 'the frame delivered twice', 15_000);
    expect(received.map((f) => f.frameId)).toEqual([7, 7]);
    await waitFor(() => exhausted.length >= 1, 'the third delivery given up', 15_000);
    expect(exhausted[0]).toMatchObject({
      cameraId: 'cam-a',
      channel: 'jsc.frames.cam-a',
      deliveries: 3,
      msgId: 'cam-a:1700000000007:7:0',
    });
    // Terminated: it comes back no more.
    await new Promise((r) => setTimeout(r, 2_000));
    expect(received).toHaveLength(2);
    const info = await consumerInfo('JSC', 'worker-c');
    expect(info.num_ack_pending).toBe(0);
  });

  it('pulls only when the demand has room', async () => {
    await publish('jsd', 'JSD', [frame(0), frame(1), frame(2)]);
    let room = false;
    let wake: (() => void) | undefined;
    const { received, states } = start({
      subjectPrefix: 'jsd',
      stream: 'JSD',
      durable: 'worker-d',
      demand: () =>
        room
          ? undefined
          : new Promise<void>((resolve) => {
              wake = resolve;
            }),
    });
    await waitFor(() => states.includes('running') && wake !== undefined, 'source waiting for room');
    await new Promise((r) => setTimeout(r, 300));
    expect(received).toHaveLength(0);
    expect((await consumerInfo('JSD', 'worker-d')).num_ack_pending).toBe(0);
    room = true;
    wake?.();
    await waitFor(() => received.length >= 3, 'three frames', 15_000);
  });

  it('resumes after the server restarts and frames left unacknowledged come back', async () => {
    await publish('jse', 'JSE', [frame(0), frame(1)], 'file');
    const held: CubeFrame[] = [];
    const { received } = start({
      subjectPrefix: 'jse',
      stream: 'JSE',
      durable: 'worker-e',
      ackWaitSeconds: 2,
      ack: false,
    });
    await waitFor(() => received.length >= 2, 'two frames', 15_000);
    held.push(...received.splice(0));
    // frame 0 is decided; frame 1's decision never gets out
    held[0]?.ack?.();
    await nats.stop('SIGTERM');
    await nats.start();
    await publish('jse', 'JSE', [frame(2)], 'file');
    await waitFor(
      () => received.some((f) => f.frameId === 1) && received.some((f) => f.frameId === 2),
      'frame 1 delivered again and frame 2',
      20_000,
    );
    expect(received.some((f) => f.frameId === 0)).toBe(false);
  });
});
