import { connect } from '@nats-io/transport-node';
import mqtt from 'mqtt';
import { firstValueFrom, take, toArray } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeFrameMessage } from '../../../connectors/codec/frame-safetensors.js';
import type { RejectedMessage } from '../../../connectors/sources/broker-frame-source.js';
import { cameraIdFromTopic, mqttFrames } from '../../../connectors/sources/mqtt-frames.js';
import { cameraIdFromSubject, natsFrames } from '../../../connectors/sources/nats-frames.js';
import type { ConnectionIssue, SourceState } from '../../../connectors/sources/source-state.js';
import { createFrame } from '../../../src/core/frame.js';
import { encodeSafetensors } from '../../../src/io/safetensors.js';
import { brokersInstalled, startMosquitto, startNatsServer, type TestBroker } from '../../helpers/brokers.js';
import { waitFor } from '../../helpers/mqtt-collector.js';

const frame = (frameId: number, cameraId = 'cam-a') =>
  createFrame({
    cameraId,
    frameId,
    height: 2,
    width: 2,
    bands: 3,
    wavelengths: [500, 600, 700],
    data: Float32Array.from({ length: 12 }, (_, i) => i + frameId),
  });

describe.skipIf(!brokersInstalled)('frames over brokers', () => {
  let mosquitto: TestBroker;
  let nats: TestBroker;
  beforeAll(async () => {
    [mosquitto, nats] = await Promise.all([startMosquitto(), startNatsServer()]);
  });
  afterAll(async () => {
    await Promise.all([mosquitto?.dispose(), nats?.dispose()]);
  });

  it('parses camera ids from topics and subjects', () => {
    expect(cameraIdFromTopic('cubestream/line-2/frames')).toBe('line-2');
    expect(cameraIdFromTopic('cubestream/line-2/other')).toBeUndefined();
    expect(cameraIdFromSubject('cubestream.frames.line-2')).toBe('line-2');
    expect(cameraIdFromSubject('cubestream.decisions.x')).toBeUndefined();
  });

  it('MQTT: decodes frames, rejects bad ones and keeps running', async () => {
    const rejected: RejectedMessage[] = [];
    const states: SourceState[] = [];
    const source = mqttFrames({ url: mosquitto.url, onReject: (r) => rejected.push(r), maxValues: 1000 });
    source.state.subscribe((s) => states.push(s));
    const received = firstValueFrom(source.frames.pipe(take(2), toArray()));
    await waitFor(() => states.includes('running'), 'source running');
    const publisher = await mqtt.connectAsync(mosquitto.url);
    await publisher.publishAsync('cubestream/cam-a/frames', Buffer.from(encodeFrameMessage(frame(1))), {
      qos: 1,
    });
    await publisher.publishAsync('cubestream/cam-a/frames', Buffer.from('not a safetensors file'), {
      qos: 1,
    });
    const big = createFrame({ height: 10, width: 10, bands: 11, data: new Float32Array(1100) });
    await publisher.publishAsync('cubestream/cam-b/frames', Buffer.from(encodeFrameMessage(big)), { qos: 1 });
    await publisher.publishAsync('cubestream/cam-a/frames', Buffer.from(encodeFrameMessage(frame(2))), {
      qos: 1,
    });
    const frames = await received;
    await publisher.endAsync();
    expect(frames.map((f) => [f.cameraId, f.frameId])).toEqual([
      ['cam-a', 1],
      ['cam-a', 2],
    ]);
    expect([...(frames[1]?.data ?? [])].slice(0, 3)).toEqual([2, 3, 4]);
    expect(rejected.map((r) => [r.cameraId, r.error.code])).toEqual([
      ['cam-a', 'decode'],
      ['cam-b', 'size'],
    ]);
    expect(rejected[1]?.error.message).toContain('exceeds the limit of 1000 values per frame');
    expect(states).toEqual(['starting', 'running', 'ended']);
  });

  it('NATS: decodes frames and takes the camera id from the subject when the message has none', async () => {
    const rejected: RejectedMessage[] = [];
    const states: SourceState[] = [];
    const source = natsFrames({ servers: nats.url, onReject: (r) => rejected.push(r) });
    source.state.subscribe((s) => states.push(s));
    const received = firstValueFrom(source.frames.pipe(take(1), toArray()));
    await waitFor(() => states.includes('running'), 'source running');
    const nc = await connect({ servers: nats.url });
    const anonymous = encodeSafetensors(
      {
        cube: { dtype: 'U16', shape: [1, 1, 2], data: Uint16Array.of(7, 9) },
        wavelengths: { dtype: 'F32', shape: [2], data: Float32Array.of(1, 2) },
      },
      { frame_id: '4' },
    );
    nc.publish('cubestream.frames.cam-n', Uint8Array.of(1, 2, 3));
    nc.publish('cubestream.frames.cam-n', anonymous);
    await nc.flush();
    const [only] = await received;
    await nc.close();
    expect(only).toMatchObject({ cameraId: 'cam-n', frameId: 4, bands: 2 });
    expect([...(only?.data ?? [])]).toEqual([7, 9]);
    expect(rejected).toHaveLength(1);
    expect(rejected[0]?.error.message).toContain('3 bytes is too short');
  });

  it('MQTT: the topic decides the camera; disagreeing metadata, unlisted and bad ids are refused', async () => {
    const rejected: RejectedMessage[] = [];
    const states: SourceState[] = [];
    const source = mqttFrames({
      url: mosquitto.url,
      topic: 'gate/+/frames',
      onReject: (r) => rejected.push(r),
      cameras: { cameraIds: ['cam0'] },
    });
    source.state.subscribe((s) => states.push(s));
    const received = firstValueFrom(source.frames.pipe(take(2), toArray()));
    await waitFor(() => states.includes('running'), 'source running');
    const publisher = await mqtt.connectAsync(mosquitto.url);
    const send = (topic: string, payload: Uint8Array) =>
      publisher.publishAsync(topic, Buffer.from(payload), { qos: 1 });
    await send('gate/cam0/frames', encodeFrameMessage(frame(1, 'cam0')));
    // A sender allowed on cam0's topic names another camera in the metadata (ACL bypass).
    await send('gate/cam0/frames', encodeFrameMessage(frame(2, 'flood-1')));
    await send('gate/cam9/frames', encodeFrameMessage(frame(3, 'cam9')));
    await send('gate/cam$1/frames', Uint8Array.of(1, 2, 3));
    await send(`gate/${'x'.repeat(5000)}/frames`, Uint8Array.of(1, 2, 3));
    await send('gate/cam0/frames', encodeFrameMessage(frame(4, 'cam0')));
    const frames = await received;
    await publisher.endAsync();
    expect(frames.map((f) => [f.cameraId, f.frameId])).toEqual([
      ['cam0', 1],
      ['cam0', 4],
    ]);
    // Only an admitted camera is reported as the camera (a metric label); others are unknown.
    expect(rejected.map((r) => [r.cameraId, r.error.code])).toEqual([
      ['cam0', 'camera'],
      [undefined, 'camera'],
      [undefined, 'camera'],
      [undefined, 'camera'],
    ]);
    expect(rejected[0]?.error.message).toContain('disagrees with the camera of the topic');
    expect(rejected[1]?.error.message).toContain('is not an admitted camera');
    expect(rejected[2]?.error.message).toContain('must be 1-128 of [A-Za-z0-9_-]');
    expect(rejected[3]?.channel.length).toBeLessThan(300);
  });

  it('NATS: admits unlisted cameras up to maxCameras, then refuses new ones', async () => {
    const rejected: RejectedMessage[] = [];
    const states: SourceState[] = [];
    const source = natsFrames({
      servers: nats.url,
      onReject: (r) => rejected.push(r),
      cameras: { cameraIds: ['cam0'], acceptUnlisted: true, maxCameras: 2 },
    });
    source.state.subscribe((s) => states.push(s));
    const received = firstValueFrom(source.frames.pipe(take(3), toArray()));
    await waitFor(() => states.includes('running'), 'source running');
    const nc = await connect({ servers: nats.url });
    for (const [camera, id] of [
      ['cam0', 1],
      ['flood-1', 2],
      ['flood-2', 3],
      ['flood-1', 4],
    ] as const) {
      nc.publish(`cubestream.frames.${camera}`, encodeFrameMessage(frame(id, camera)));
    }
    await nc.flush();
    const frames = await received;
    await nc.close();
    expect(frames.map((f) => [f.cameraId, f.frameId])).toEqual([
      ['cam0', 1],
      ['flood-1', 2],
      ['flood-1', 4],
    ]);
    expect(rejected.map((r) => [r.cameraId, r.error.code])).toEqual([[undefined, 'camera']]);
    expect(rejected[0]?.error.message).toContain('past maxCameras 2');
  });

  it('a broker that is down at start: disconnected with the reason, retried, then running', async () => {
    for (const kind of ['mqtt', 'nats'] as const) {
      const broker = kind === 'mqtt' ? await startMosquitto() : await startNatsServer();
      await broker.stop();
      const issues: ConnectionIssue[] = [];
      const states: SourceState[] = [];
      const options = {
        onConnectionIssue: (issue: ConnectionIssue) => issues.push(issue),
        reconnect: { initialMs: 50, maxMs: 200 },
        cameras: { cameraIds: ['cam0'] },
      };
      const source =
        kind === 'mqtt'
          ? mqttFrames({ ...options, url: broker.url })
          : natsFrames({ ...options, servers: broker.url });
      source.state.subscribe((s) => states.push(s));
      const received = firstValueFrom(source.frames.pipe(take(1)));
      await waitFor(() => issues.length >= 2, `${kind}: two failed attempts reported`);
      expect(states.at(-1)).toBe('disconnected');
      expect(issues[0]?.error.message).toMatch(/ECONNREFUSED|connection refused/i);
      expect(issues.map((i) => i.attempt).slice(0, 2)).toEqual([1, 2]);
      await broker.start();
      await waitFor(() => states.at(-1) === 'running', `${kind}: running once the broker is up`);
      if (kind === 'mqtt') {
        const publisher = await mqtt.connectAsync(broker.url);
        await publisher.publishAsync(
          'cubestream/cam0/frames',
          Buffer.from(encodeFrameMessage(frame(7, 'cam0'))),
          {
            qos: 1,
          },
        );
        await publisher.endAsync();
      } else {
        const nc = await connect({ servers: broker.url });
        nc.publish('cubestream.frames.cam0', encodeFrameMessage(frame(7, 'cam0')));
        await nc.flush();
        await nc.close();
      }
      expect((await received).frameId).toBe(7);
      await broker.dispose();
    }
  });

  it('reports a connection failure as an error state', async () => {
    const states: SourceState[] = [];
    const source = natsFrames({
      servers: 'nats://127.0.0.1:1',
      connection: { maxReconnectAttempts: 0, reconnect: false },
    });
    source.state.subscribe((s) => states.push(s));
    await expect(firstValueFrom(source.frames)).rejects.toThrow();
    expect(states).toContain('error');
  });
});
