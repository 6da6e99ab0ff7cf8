/**
 * `cubestream publish --from genicam` against Aravis's fake GigE Vision camera and a real
 * `nats-server -js`: N blocks of the camera's lines land in the stream, each a frame message of
 * rows x width x bands whose counts are the camera's test pattern line after line; SIGINT stops a
 * running gateway with every publish acknowledged; the GenICam flags are refused for the other
 * kinds and `--device` is required. Under CI=true a missing camera or server fails these tests
 * instead of skipping them.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DeliverPolicy, type JetStreamManager, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeFrameMessage } from '../../../connectors/codec/frame-safetensors.js';
import { fakeCameraCount } from '../../../scripts/genicam-fake-pattern.js';
import { runCli } from '../../../src/app/cli/main.js';
import type { CubeFrame } from '../../../src/core/frame.js';
import { brokersInstalled, startNatsServer, type TestBroker } from '../../helpers/brokers.js';
import { captureIO } from '../../helpers/capture-io.js';
import {
  FAKE_CAMERA_HOOK_TIMEOUT_MS,
  type FakeCamera,
  fakeCameraInstalled,
  startFakeCamera,
} from '../../helpers/fake-gv-camera.js';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const skip = !(fakeCameraInstalled && brokersInstalled) && process.env.CI !== 'true';
if (skip)
  console.warn('publish --from genicam tests skipped: needs arv-fake-gv-camera-0.8, koffi and nats-server');

const WIDTH = 32;
const BANDS = 8;
const BLOCK_ROWS = 4;
const WAVELENGTHS = [400, 410, 420, 430, 440, 450, 460, 470];
/** 32 pixels x 8 bands of Mono16 (bands-rows) at 300 lines/s: small and fast. */
const CAMERA_FLAGS = [
  '--from',
  'genicam',
  '--device',
  '127.0.0.1',
  '--width',
  `${WIDTH}`,
  '--height',
  `${BANDS}`,
  '--pixel-format',
  'Mono16',
  '--frame-rate',
  '300',
  '--wavelengths',
  WAVELENGTHS.join(','),
  '--block-rows',
  `${BLOCK_ROWS}`,
];

interface StoredFrame {
  readonly subject: string;
  readonly frame: CubeFrame;
}

/** Every message of `stream`, read with a JetStream consumer from the first. */
async function readStream(nc: NatsConnection, jsm: JetStreamManager, stream: string): Promise<StoredFrame[]> {
  const count = (await jsm.streams.info(stream)).state.messages;
  const out: StoredFrame[] = [];
  if (count === 0) return out;
  const consumer = await jetstream(nc).consumers.get(stream, { deliver_policy: DeliverPolicy.All });
  const messages = await consumer.fetch({ max_messages: count, expires: 5_000 });
  for await (const msg of messages) {
    out.push({ subject: msg.subject, frame: decodeFrameMessage(msg.data) });
    if (out.length === count) break;
  }
  return out;
}

/** The GVSP block id (mod 65535) of a Mono16 line, from its pixel 0, band 0: 256 * 256 = 1 mod 65535. */
function phaseOf(count: number): number {
  return (256 * count) % 65535;
}

/**
 * The block ids of the frames' lines, in order, after checking that every value of every line is
 * the fake camera's Mono16 count for that line's id (`[row, x, band]`, bands on the camera rows).
 */
function linePhases(frames: readonly CubeFrame[]): number[] {
  const phases: number[] = [];
  for (const frame of frames) {
    for (let row = 0; row < frame.height; row++) {
      const line = frame.data.subarray(
        row * frame.width * frame.bands,
        (row + 1) * frame.width * frame.bands,
      );
      const id = phaseOf(line[0] as number);
      const expected = Float32Array.from({ length: line.length }, (_, i) =>
        fakeCameraCount('Mono16', Math.floor(i / frame.bands), i % frame.bands, id),
      );
      expect(Float32Array.from(line)).toEqual(expected);
      phases.push(id);
    }
  }
  return phases;
}

/** True when each id follows the one before (the camera's ids wrap 65535 -> 1, i.e. phase 0 -> 1). */
function consecutive(phases: readonly number[]): boolean {
  return phases.slice(1).every((p, i) => p === ((phases[i] as number) + 1) % 65535);
}

async function publish(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const io = captureIO();
  const code = await runCli(['publish', ...args], io);
  return { code, stdout: io.stdout(), stderr: io.stderr() };
}

describe.skipIf(skip)('cubestream publish --from genicam (fake GigE Vision camera, nats-server -js)', () => {
  let camera: FakeCamera;
  let server: TestBroker;
  let nc: NatsConnection;
  let jsm: JetStreamManager;

  beforeAll(async () => {
    camera = await startFakeCamera({ serial: 'CLIPUB' });
    server = await startNatsServer();
    nc = await connect({ servers: server.url });
    jsm = await jetstreamManager(nc);
  }, FAKE_CAMERA_HOOK_TIMEOUT_MS);
  afterAll(async () => {
    await nc?.close();
    await server?.dispose();
    await camera?.dispose();
  });

  it('publishes N blocks of the camera lines: rows x width x bands, the camera pattern, exit 0', async () => {
    const result = await publish([...CAMERA_FLAGS, '--camera', 'belt1', '--blocks', '5', '--to', server.url]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(
      /^published 5 blocks, \d+ bytes \(\d+\.\d MB\) to CUBESTREAM_FRAMES on cubestream\.frames\.belt1 in \d+\.\d\d s, 0 camera lines lost\n$/,
    );

    const info = await jsm.streams.info('CUBESTREAM_FRAMES');
    expect(info.config.subjects).toEqual(['cubestream.frames.>']);
    const stored = await readStream(nc, jsm, 'CUBESTREAM_FRAMES');
    expect(stored).toHaveLength(5);
    stored.forEach(({ subject, frame }, i) => {
      expect(subject).toBe('cubestream.frames.belt1');
      expect(frame).toMatchObject({
        cameraId: 'belt1',
        frameId: i,
        rowOffset: 0,
        totalRows: BLOCK_ROWS,
        height: BLOCK_ROWS,
        width: WIDTH,
        bands: BANDS,
        radiometry: 'counts',
        wavelengthUnits: 'nm',
      });
      expect([...frame.wavelengths]).toEqual(WAVELENGTHS);
      expect(frame.data).toHaveLength(BLOCK_ROWS * WIDTH * BANDS);
    });
    const phases = linePhases(stored.map((s) => s.frame));
    expect(phases).toHaveLength(5 * BLOCK_ROWS);
    // Nothing is lost on the loopback ("0 camera lines lost"): the lines are consecutive block ids.
    expect(consecutive(phases)).toBe(true);
  }, 60_000);

  it('takes the camera settings from a run config, publish keeping its own camera id, block rows and blocks', async () => {
    // configs/run/genicam-fake.yaml: 127.0.0.1, cameraId cam0, Mono16, 1024 x 224, blockRows 32.
    const result = await publish([
      '--from',
      'genicam',
      '--config',
      join(repoRoot, 'configs/run/genicam-fake.yaml'),
      '--width',
      `${WIDTH}`,
      '--height',
      `${BANDS}`,
      '--camera',
      'belt3',
      '--block-rows',
      '2',
      '--blocks',
      '2',
      '--stream',
      'FROMCONFIG',
      '--subject-prefix',
      'cfg',
      '--to',
      server.url,
    ]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('published 2 blocks');
    const stored = await readStream(nc, jsm, 'FROMCONFIG');
    expect(
      stored.map((s) => [s.subject, s.frame.frameId, s.frame.height, s.frame.width, s.frame.bands]),
    ).toEqual([
      ['cfg.frames.belt3', 0, 2, WIDTH, BANDS],
      ['cfg.frames.belt3', 1, 2, WIDTH, BANDS],
    ]);
    expect(stored[0]?.frame.wavelengthUnits).toBe('index');
    expect(consecutive(linePhases(stored.map((s) => s.frame)))).toBe(true);
  }, 60_000);

  it('stops a running gateway on SIGINT with every publish acknowledged, exit 0 (a process of its own)', async () => {
    const child: ChildProcess = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        join(repoRoot, 'src/app/cli.ts'),
        'publish',
        ...CAMERA_FLAGS,
        '--camera',
        'belt2',
        '--dtype',
        'U16',
        '--stream',
        'GATEWAY2',
        '--subject-prefix',
        'gw2',
        '--to',
        server.url,
      ],
      { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
    try {
      // Wait until the gateway has stored a few blocks (the stream exists once it connected).
      for (let waited = 0; ; waited++) {
        const messages = await jsm.streams
          .info('GATEWAY2')
          .then((info) => info.state.messages)
          .catch(() => 0);
        if (messages >= 3) break;
        if (child.exitCode !== null || waited > 600)
          throw new Error(`the gateway stored no frames: ${stderr}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      child.kill('SIGINT');
      const [code, signal] = await exited;
      expect(stderr).toBe('');
      expect({ code, signal }).toEqual({ code: 0, signal: null });
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    const published = Number(
      /^published (\d+) blocks, \d+ bytes .* on gw2\.frames\.belt2 in /.exec(stdout)?.[1],
    );
    expect(published).toBeGreaterThanOrEqual(3);
    const stored = await readStream(nc, jsm, 'GATEWAY2');
    // Drained: every block the gateway counted is in the stream (acknowledged), and no more.
    expect(stored).toHaveLength(published);
    expect(stored.every((s) => s.subject === 'gw2.frames.belt2')).toBe(true);
    expect(stored.map((s) => s.frame.frameId)).toEqual(stored.map((_, i) => i));
    expect(consecutive(linePhases(stored.map((s) => s.frame)))).toBe(true);
  }, 120_000);
});

describe('cubestream publish --from genicam command line', () => {
  it('documents the GenICam options in --help', async () => {
    const io = captureIO();
    expect(await runCli(['publish', '--help'], io)).toBe(0);
    for (const option of [
      '--from simulated|envi|genicam',
      '--device ID',
      '--calibration DIR',
      '--config FILE',
      '--pixel-format NAME',
      '--line-layout L',
      '--wavelengths FILE.hdr',
      '--wavelengths NM,NM',
      '--feature NAME=VALUE',
    ]) {
      expect(io.stdout()).toContain(option);
    }
  });

  it.each([
    [['--from', 'genicam', '--camera', 'c1', '--to', 'nats://h:1'], 'missing required option --device'],
    [
      ['--from', 'kinect', '--camera', 'c1', '--to', 'nats://h:1'],
      '--from must be simulated, envi or genicam',
    ],
    [
      ['--from', 'simulated', '--camera', 'c1', '--device', 'x', '--to', 'nats://h:1'],
      '--device is for --from genicam only',
    ],
    [
      [
        '--from',
        'envi',
        '--camera',
        'c1',
        '--path',
        'a.hdr',
        '--pixel-format',
        'Mono16',
        '--to',
        'nats://h:1',
      ],
      '--pixel-format is for --from genicam only',
    ],
    [
      ['--from', 'envi', '--camera', 'c1', '--path', 'a.hdr', '--width', '8', '--to', 'nats://h:1'],
      '--width is for --from simulated or genicam only',
    ],
    [
      ['--from', 'genicam', '--camera', 'c1', '--device', 'x', '--seed', '1', '--to', 'nats://h:1'],
      '--seed is for --from simulated only',
    ],
    [
      [
        '--from',
        'genicam',
        '--camera',
        'c1',
        '--device',
        'x',
        '--lines-per-second',
        '5',
        '--to',
        'nats://h:1',
      ],
      '--lines-per-second is for --from simulated or envi only',
    ],
    [
      ['--from', 'genicam', '--camera', 'c1', '--device', 'x', '--feature', 'Gain', '--to', 'nats://h:1'],
      '--feature needs NAME=VALUE',
    ],
  ])('exits 2 with one line for %j', async (args, message) => {
    const io = captureIO();
    expect(await runCli(['publish', ...args], io)).toBe(2);
    expect(io.stdout()).toBe('');
    expect(io.stderr()).toMatch(/^cubestream publish: [^\n]+\n$/);
    expect(io.stderr()).toContain(message);
  });
});
