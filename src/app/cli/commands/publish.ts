import { type Observable, take } from 'rxjs';
import type { WireCubeDtype } from '../../../../connectors/codec/frame-safetensors.js';
import { JetStreamFramePublisher } from '../../../../connectors/sinks/frame-publisher.js';
import { FRAME_STREAM_DEFAULTS } from '../../../../connectors/sinks/frame-stream.js';
import type { Demand } from '../../../../connectors/sources/demand.js';
import { enviReplay } from '../../../../connectors/sources/envi-replay.js';
import { simulatedLineScan } from '../../../../connectors/sources/simulated-line-scan.js';
import type { CameraSource } from '../../../../connectors/sources/source-state.js';
import { CAMERA_ID_RULE, isCameraId } from '../../../core/camera-id.js';
import type { CubeFrame } from '../../../core/frame.js';
import { type CliCommand, type CliValues, numberOption, stringOption, UsageError } from '../command.js';

const DTYPES: readonly WireCubeDtype[] = ['F32', 'U16', 'U8', 'I16', 'F64'];
/** Rows per block when --block-rows is absent: 8 x 256 x 61 float32 is ~0.5 MB, under NATS's default 1 MB max_payload. */
const DEFAULT_BLOCK_ROWS = 8;

/** The parsed command line of `publish`. */
interface PublishArgs {
  from: 'simulated' | 'envi';
  camera: string;
  blocks: number | undefined;
  path: string | undefined;
  seed: number;
  width: number;
  blockRows: number;
  linesPerSecond: number | undefined;
  to: string;
  stream: string;
  subjectPrefix: string;
  dtype: WireCubeDtype;
  maxInFlight: number;
  connectTimeoutMs: number;
  maxAgeMs: number;
  maxBytes: number;
  duplicateWindowMs: number;
}

function optionalNumber(values: CliValues, name: string, range: Parameters<typeof numberOption>[3]) {
  const value = numberOption(values, name, Number.NaN, range);
  return Number.isNaN(value) ? undefined : value;
}

function parsePublishArgs(values: CliValues): PublishArgs {
  const from = stringOption(values, 'from', true);
  if (from !== 'simulated' && from !== 'envi') {
    throw new UsageError(`--from must be simulated or envi, got ${JSON.stringify(from)}`);
  }
  const camera = stringOption(values, 'camera', true);
  if (!isCameraId(camera)) throw new UsageError(`--camera ${JSON.stringify(camera)} ${CAMERA_ID_RULE}`);
  const path = stringOption(values, 'path');
  if (from === 'envi' && path === undefined) throw new UsageError('--from envi needs --path DIR_OR_HDR');
  if (from === 'simulated' && path !== undefined) throw new UsageError('--path is for --from envi only');
  for (const name of ['seed', 'width'] as const) {
    if (from === 'envi' && values[name] !== undefined)
      throw new UsageError(`--${name} is for --from simulated only`);
  }
  const to = stringOption(values, 'to', true);
  if (!/^(nats|tls):\/\/[^\s/]+$/.test(to)) {
    throw new UsageError(`--to must be nats://HOST:PORT, got ${JSON.stringify(to)}`);
  }
  const dtype = (stringOption(values, 'dtype') ?? 'F32').toUpperCase() as WireCubeDtype;
  if (!DTYPES.includes(dtype))
    throw new UsageError(`--dtype must be one of ${DTYPES.join(', ')}, got "${dtype}"`);
  return {
    from,
    camera,
    blocks: optionalNumber(values, 'blocks', { integer: true, min: 1 }),
    path,
    seed: numberOption(values, 'seed', 1, { integer: true, min: 0, max: 2 ** 32 - 1 }),
    width: numberOption(values, 'width', 256, { integer: true, min: 1, max: 16_384 }),
    blockRows: numberOption(values, 'block-rows', DEFAULT_BLOCK_ROWS, { integer: true, min: 1 }),
    linesPerSecond: optionalNumber(values, 'lines-per-second', { min: 0.001 }),
    to,
    stream: stringOption(values, 'stream') ?? FRAME_STREAM_DEFAULTS.name,
    subjectPrefix: stringOption(values, 'subject-prefix') ?? 'cubestream',
    dtype,
    maxInFlight: numberOption(values, 'max-in-flight', 64, { integer: true, min: 1, max: 10_000 }),
    connectTimeoutMs: numberOption(values, 'connect-timeout', 10, { min: 0.1 }) * 1000,
    maxAgeMs: numberOption(values, 'max-age', FRAME_STREAM_DEFAULTS.maxAgeMs / 1000, { min: 0 }) * 1000,
    maxBytes: numberOption(values, 'max-bytes', FRAME_STREAM_DEFAULTS.maxBytes, { integer: true, min: -1 }),
    duplicateWindowMs:
      numberOption(values, 'duplicate-window', FRAME_STREAM_DEFAULTS.duplicateWindowMs / 1000, {
        min: 0.001,
      }) * 1000,
  };
}

function openSource(args: PublishArgs, demand: Demand): CameraSource {
  const paced = args.linesPerSecond === undefined ? {} : { linesPerSecond: args.linesPerSecond };
  if (args.from === 'envi') {
    return enviReplay({
      path: args.path ?? '',
      cameraId: args.camera,
      blockRows: args.blockRows,
      demand,
      ...paced,
    });
  }
  return simulatedLineScan({
    cameraId: args.camera,
    seed: args.seed,
    width: args.width,
    blockRows: args.blockRows,
    demand,
    ...paced,
    ...(args.blocks === undefined ? {} : { maxBlocks: args.blocks }),
  });
}

/**
 * Sends every frame of `frames` (at most `limit`) to the publisher, releasing each block once
 * encoded; resolves when the source ends, the limit is reached or `stop` is called.
 */
function pump(
  frames: Observable<CubeFrame>,
  publisher: JetStreamFramePublisher,
  limit: number | undefined,
): { done: Promise<void>; stop: () => void } {
  let stop = (): void => undefined;
  const done = new Promise<void>((resolve, reject) => {
    const subscription = (limit === undefined ? frames : frames.pipe(take(limit))).subscribe({
      next: (frame) => {
        const sent = publisher.publish(frame);
        frame.release?.();
        sent.catch((error: unknown) => {
          subscription.unsubscribe();
          reject(error);
        });
      },
      error: reject,
      complete: resolve,
    });
    stop = () => {
      subscription.unsubscribe();
      resolve();
    };
  });
  return { done, stop };
}

function megabytes(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

/**
 * `cubestream publish`: the camera gateway. Captures blocks from the simulated camera or an ENVI
 * replay and publishes each as a safetensors frame message (docs/wire-format.md §1) to the
 * JetStream stream `CUBESTREAM_FRAMES` on `<prefix>.frames.<camera>`, creating the stream when
 * missing or checking that it captures the subject; at most `--max-in-flight` publishes await
 * their PubAck; `Nats-Msg-Id` = `<camera>:<capturedAt>:<frameId>:<rowOffset>`. Exits 0 after
 * `--blocks` blocks, at the end of the replay, or on SIGINT/SIGTERM, once every publish is
 * acknowledged, with one summary line; exits 1 when no server answers within `--connect-timeout`.
 *
 * @example
 * ```sh
 * cubestream publish --from simulated --camera line1 --blocks 1000 --to nats://127.0.0.1:4222
 * ```
 */
export const publishCommand: CliCommand = {
  name: 'publish',
  summary: 'Camera gateway: publish frames to the JetStream stream CUBESTREAM_FRAMES',
  usage: `cubestream publish --from simulated|envi --camera ID --to nats://HOST:PORT [options]
  --from simulated|envi    the simulated line-scan camera, or an ENVI replay (--path)
  --camera ID              camera id of the frames and subject token (${CAMERA_ID_RULE})
  --blocks N               stop after N blocks (default: simulated runs until SIGINT/SIGTERM, envi to the end of the replay)
  --path DIR_OR_HDR        (envi) a cube header, or a folder of cubes replayed in path order
  --seed N                 (simulated) seed of the scene (default 1)
  --width N                (simulated) pixels per line (default 256)
  --block-rows N           lines per block = per message (default ${DEFAULT_BLOCK_ROWS})
  --lines-per-second R     pace like a line-scan camera (default: as fast as the server acknowledges)
  --dtype T                cube element type on the wire: F32 (default), U16, U8, I16, F64 (integers round and clamp)
  --to nats://HOST:PORT    the NATS server (JetStream enabled)
  --stream NAME            stream name (default ${FRAME_STREAM_DEFAULTS.name})
  --subject-prefix P       subjects <P>.frames.<camera> (default cubestream)
  --max-in-flight N        most publishes awaiting their PubAck (default 64)
  --connect-timeout S      give up (exit 1) when no server answers within S seconds (default 10)
  A missing stream is created with subjects <P>.frames.>, file storage and:
  --max-age S              oldest frame kept, seconds; 0 = unlimited (default ${FRAME_STREAM_DEFAULTS.maxAgeMs / 1000})
  --max-bytes N            most bytes kept, oldest discarded first; -1 = unlimited (default ${FRAME_STREAM_DEFAULTS.maxBytes}, 1 GiB)
  --duplicate-window S     Nats-Msg-Id de-duplication window, seconds (default ${FRAME_STREAM_DEFAULTS.duplicateWindowMs / 1000})
  An existing stream must capture <P>.frames.<camera>, else exit 1 naming its subjects.
  Nats-Msg-Id = <camera>:<capturedAt>:<frameId>:<rowOffset>, so a retried publish is stored once.
  Prints one line: blocks, bytes and seconds.`,
  options: {
    from: { type: 'string' },
    camera: { type: 'string' },
    blocks: { type: 'string' },
    path: { type: 'string' },
    seed: { type: 'string' },
    width: { type: 'string' },
    'block-rows': { type: 'string' },
    'lines-per-second': { type: 'string' },
    dtype: { type: 'string' },
    to: { type: 'string' },
    stream: { type: 'string' },
    'subject-prefix': { type: 'string' },
    'max-in-flight': { type: 'string' },
    'connect-timeout': { type: 'string' },
    'max-age': { type: 'string' },
    'max-bytes': { type: 'string' },
    'duplicate-window': { type: 'string' },
  },
  async run({ values }, io) {
    const args = parsePublishArgs(values);
    const publisher = await JetStreamFramePublisher.connect({
      servers: args.to,
      subjectPrefix: args.subjectPrefix,
      cameraIds: [args.camera],
      maxInFlight: args.maxInFlight,
      connectTimeoutMs: args.connectTimeoutMs,
      dtype: args.dtype,
      stream: {
        name: args.stream,
        maxAgeMs: args.maxAgeMs,
        maxBytes: args.maxBytes,
        duplicateWindowMs: args.duplicateWindowMs,
      },
    });
    const started = performance.now();
    const onSignal = (): void => running.stop();
    const running = pump(openSource(args, publisher.demand).frames, publisher, args.blocks);
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    try {
      await running.done;
      const stats = await publisher.flush(60_000);
      const seconds = (performance.now() - started) / 1000;
      const duplicates = stats.duplicates > 0 ? `, ${stats.duplicates} already stored` : '';
      io.out(
        `published ${stats.blocks} blocks, ${stats.bytes} bytes (${megabytes(stats.bytes)}) to ${publisher.stream.config.name} on ${publisher.subjectFor(args.camera)} in ${seconds.toFixed(2)} s${duplicates}\n`,
      );
      return 0;
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      await publisher.close();
    }
  },
};
