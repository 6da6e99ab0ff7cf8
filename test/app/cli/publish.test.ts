/**
 * `cubestream publish` (the camera gateway) against a real `nats-server -js`: frames land in the
 * stream `CUBESTREAM_FRAMES` (created with the documented config) on `<prefix>.frames.<camera>`,
 * each a safetensors frame message with its `Nats-Msg-Id`; a repeated msg id is stored once; an
 * existing stream with other subjects and an unreachable server fail with one line and exit 1.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DeliverPolicy, type JetStreamManager, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection, nanos } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeFrameMessage } from '../../../connectors/codec/frame-safetensors.js';
import { frameMsgId, JetStreamFramePublisher } from '../../../connectors/sinks/frame-publisher.js';
import { FRAME_STREAM_DEFAULTS } from '../../../connectors/sinks/frame-stream.js';
import { runCli } from '../../../src/app/cli/main.js';
import type { CubeFrame } from '../../../src/core/frame.js';
import { writeEnviCube } from '../../../src/io/envi/index.js';
import { brokersInstalled, freePort, startNatsServer, type TestBroker } from '../../helpers/brokers.js';
import { captureIO } from '../../helpers/capture-io.js';

const skip = !brokersInstalled && process.env.CI !== 'true';
if (skip) console.warn('publish tests skipped: /usr/sbin/nats-server is not installed');

interface StoredFrame {
  readonly subject: string;
  readonly msgId: string | undefined;
  readonly frame: CubeFrame;
  readonly size: number;
}

/** Every message of `stream`, read with an ordered JetStream consumer from the first. */
async function readStream(nc: NatsConnection, jsm: JetStreamManager, stream: string): Promise<StoredFrame[]> {
  const count = (await jsm.streams.info(stream)).state.messages;
  const consumer = await jetstream(nc).consumers.get(stream, { deliver_policy: DeliverPolicy.All });
  const out: StoredFrame[] = [];
  if (count === 0) return out;
  const messages = await consumer.fetch({ max_messages: count, expires: 5_000 });
  for await (const msg of messages) {
    out.push({
      subject: msg.subject,
      msgId: msg.headers?.get('Nats-Msg-Id'),
      frame: decodeFrameMessage(msg.data),
      size: msg.data.byteLength,
    });
    if (out.length === count) break;
  }
  return out;
}

async function publish(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const io = captureIO();
  const code = await runCli(['publish', ...args], io);
  return { code, stdout: io.stdout(), stderr: io.stderr() };
}

describe.skipIf(skip)('cubestream publish against nats-server -js', () => {
  let server: TestBroker;
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  let dir: string;
  const SIM = [
    '--from',
    'simulated',
    '--camera',
    'cam1',
    '--width',
    '32',
    '--block-rows',
    '4',
    '--seed',
    '7',
  ];

  beforeAll(async () => {
    server = await startNatsServer();
    nc = await connect({ servers: server.url });
    jsm = await jetstreamManager(nc);
    dir = await mkdtemp(path.join(tmpdir(), 'cubestream-publish-'));
  });
  afterAll(async () => {
    await nc?.close();
    await server?.dispose();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('creates CUBESTREAM_FRAMES and stores N frame messages with their Nats-Msg-Id; a second run adds N more', async () => {
    const first = await publish([...SIM, '--blocks', '6', '--to', server.url]);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(
      /^published 6 blocks, \d+ bytes \(\d+\.\d MB\) to CUBESTREAM_FRAMES on cubestream\.frames\.cam1 in \d+\.\d\d s\n$/,
    );

    const info = await jsm.streams.info('CUBESTREAM_FRAMES');
    expect(info.config.subjects).toEqual(['cubestream.frames.>']);
    expect(info.config.storage).toBe('file');
    expect(info.config.max_age).toBe(nanos(FRAME_STREAM_DEFAULTS.maxAgeMs));
    expect(info.config.max_bytes).toBe(1024 ** 3);
    expect(info.config.duplicate_window).toBe(nanos(120_000));

    const stored = await readStream(nc, jsm, 'CUBESTREAM_FRAMES');
    expect(stored).toHaveLength(6);
    const bytes = Number(/, (\d+) bytes/.exec(first.stdout)?.[1]);
    expect(bytes).toBe(stored.reduce((sum, s) => sum + s.size, 0));
    stored.forEach(({ subject, msgId, frame }, i) => {
      expect(subject).toBe('cubestream.frames.cam1');
      expect(frame).toMatchObject({
        cameraId: 'cam1',
        frameId: i,
        rowOffset: 0,
        height: 4,
        width: 32,
        bands: 61,
      });
      expect(msgId).toBe(`cam1:${frame.capturedAt}:${i}:0`);
    });

    // Same seed again: the same blocks, captured later, so new msg ids: stored again (no dedup across runs).
    const second = await publish([...SIM, '--blocks', '6', '--to', server.url]);
    expect(second.code).toBe(0);
    const all = await readStream(nc, jsm, 'CUBESTREAM_FRAMES');
    expect(all).toHaveLength(12);
    expect(new Set(all.map((s) => s.msgId)).size).toBe(12);
    for (let i = 0; i < 6; i++) {
      expect(all[i + 6]?.frame.frameId).toBe(i);
      expect(all[i + 6]?.frame.data).toEqual(all[i]?.frame.data);
    }
  });

  it('stores a frame published twice with the same Nats-Msg-Id once (a retry)', async () => {
    const publisher = await JetStreamFramePublisher.connect({
      servers: server.url,
      subjectPrefix: 'dedup',
      stream: { name: 'DEDUP_FRAMES', storage: 'memory' },
    });
    try {
      const stored = await readStream(nc, jsm, 'CUBESTREAM_FRAMES');
      const frame = stored[0]?.frame as CubeFrame;
      await publisher.publish(frame);
      await publisher.publish(frame);
      await publisher.publish({ ...frame, rowOffset: 4, totalRows: 8 });
      expect(await publisher.flush(5_000)).toEqual({
        blocks: 3,
        bytes: expect.any(Number) as number,
        duplicates: 1,
      });
    } finally {
      await publisher.close();
    }
    const stored = await readStream(nc, jsm, 'DEDUP_FRAMES');
    expect(stored.map((s) => s.msgId)).toEqual([
      frameMsgId(stored[0]?.frame as CubeFrame),
      frameMsgId({ ...(stored[0]?.frame as CubeFrame), rowOffset: 4 }),
    ]);
    expect(stored.every((s) => s.subject === 'dedup.frames.cam1')).toBe(true);
  });

  it('keeps at most maxInFlight publishes awaiting their PubAck', async () => {
    const publisher = await JetStreamFramePublisher.connect({
      servers: server.url,
      subjectPrefix: 'bounded',
      stream: { name: 'BOUNDED_FRAMES', storage: 'memory' },
      maxInFlight: 2,
    });
    try {
      const frame = (await readStream(nc, jsm, 'CUBESTREAM_FRAMES'))[0]?.frame as CubeFrame;
      let most = 0;
      for (let i = 0; i < 10; i++) {
        await publisher.publish({ ...frame, frameId: 100 + i });
        most = Math.max(most, publisher.inFlight);
        if (publisher.inFlight === 2) expect(publisher.demand()).toBeInstanceOf(Promise);
      }
      expect(most).toBe(2);
      expect((await publisher.flush(5_000)).blocks).toBe(10);
      expect(publisher.inFlight).toBe(0);
      expect(publisher.demand()).toBeUndefined();
    } finally {
      await publisher.close();
    }
    expect((await jsm.streams.info('BOUNDED_FRAMES')).state.messages).toBe(10);
  });

  it('replays an ENVI cube to its end on a custom stream and prefix', async () => {
    const hdr = path.join(dir, 'scan.hdr');
    const data = Float32Array.from({ length: 10 * 5 * 4 }, (_, i) => i % 97);
    await writeEnviCube(
      hdr,
      { lines: 10, samples: 5, bands: 4, data, wavelengths: [500, 600, 700, 800] },
      { dataType: 4, interleave: 'bip' },
    );
    const result = await publish([
      '--from',
      'envi',
      '--camera',
      'line-2',
      '--path',
      hdr,
      '--block-rows',
      '4',
      '--to',
      server.url,
      '--stream',
      'LINE2',
      '--subject-prefix',
      'plant.a',
    ]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('published 3 blocks');
    expect((await jsm.streams.info('LINE2')).config.subjects).toEqual(['plant.a.frames.>']);
    const stored = await readStream(nc, jsm, 'LINE2');
    expect(stored.map((s) => [s.subject, s.frame.rowOffset, s.frame.height, s.frame.totalRows])).toEqual([
      ['plant.a.frames.line-2', 0, 4, 10],
      ['plant.a.frames.line-2', 4, 4, 10],
      ['plant.a.frames.line-2', 8, 2, 10],
    ]);
    const replayed = new Float32Array(stored.flatMap((s) => [...s.frame.data]));
    expect(replayed).toEqual(data);
  });

  it('refuses an existing stream whose subjects do not capture the camera, naming it and its subjects', async () => {
    await jsm.streams.add({ name: 'OTHER', subjects: ['other.>'] });
    const result = await publish([...SIM, '--blocks', '1', '--to', server.url, '--stream', 'OTHER']);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(result.stderr).toContain('"OTHER"');
    expect(result.stderr).toContain('["other.>"]');
    expect(result.stderr).toContain('cubestream.frames.cam1');
    expect((await jsm.streams.info('OTHER')).state.messages).toBe(0);
  });

  it('asks for --stream-replicas copies; a single server refuses 3 in one line naming replicas', async () => {
    const result = await publish([
      ...SIM,
      '--blocks',
      '1',
      '--to',
      `${server.url},${server.url}`,
      '--stream',
      'TRIPLE',
      '--stream-replicas',
      '3',
    ]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/replicas/i);
    const bad = await publish([...SIM, '--blocks', '1', '--to', server.url, '--stream-replicas', '0']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--stream-replicas');
  });

  it('exits 1 with one line when no server answers within --connect-timeout', async () => {
    const port = await freePort();
    const started = Date.now();
    const result = await publish([
      ...SIM,
      '--blocks',
      '1',
      '--to',
      `nats://127.0.0.1:${port}`,
      '--connect-timeout',
      '0.5',
    ]);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `cubestream publish: frames sink: no connection to nats://127.0.0.1:${port} within 500 ms\n`,
    );
  });
});

describe('cubestream publish command line', () => {
  it('documents every option in --help', async () => {
    const io = captureIO();
    expect(await runCli(['publish', '--help'], io)).toBe(0);
    for (const option of [
      '--from simulated|envi',
      '--camera ID',
      '--blocks N',
      '--path DIR_OR_HDR',
      '--seed N',
      '--lines-per-second R',
      '--to nats://HOST:PORT',
      '--stream NAME',
      '--subject-prefix P',
      '--max-in-flight N',
      '--connect-timeout S',
      '--stream-replicas N',
      '--max-age S',
      '--max-bytes N',
      '--duplicate-window S',
      'CUBESTREAM_FRAMES',
      'Nats-Msg-Id',
    ]) {
      expect(io.stdout()).toContain(option);
    }
  });

  it.each([
    [['--camera', 'c1', '--to', 'nats://h:1'], 'missing required option --from'],
    [
      ['--from', 'kinect', '--camera', 'c1', '--to', 'nats://h:1'],
      '--from must be simulated, envi or genicam',
    ],
    [['--from', 'envi', '--camera', 'c1', '--to', 'nats://h:1'], '--from envi needs --path'],
    [['--from', 'simulated', '--camera', 'c.1', '--to', 'nats://h:1'], '--camera "c.1" must be'],
    [['--from', 'simulated', '--camera', 'c1', '--to', 'http://h:1'], '--to must be nats://HOST:PORT'],
    [['--from', 'simulated', '--camera', 'c1', '--to', 'nats://h:1', '--blocks', '0'], '--blocks must be'],
  ])('exits 2 with one line for %j', async (args, message) => {
    const io = captureIO();
    expect(await runCli(['publish', ...args], io)).toBe(2);
    expect(io.stderr()).toMatch(/^cubestream publish: [^\n]+\n$/);
    expect(io.stderr()).toContain(message);
  });
});
