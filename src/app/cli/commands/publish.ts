import { type Observable, take } from 'rxjs';
import type { WireCubeDtype } from '../../../../connectors/codec/frame-safetensors.js';
import { JetStreamFramePublisher } from '../../../../connectors/sinks/frame-publisher.js';
import { FRAME_STREAM_DEFAULTS } from '../../../../connectors/sinks/frame-stream.js';
import type { Demand } from '../../../../connectors/sources/demand.js';
import { enviReplay } from '../../../../connectors/sources/envi-replay.js';
import { loadAravis } from '../../../../connectors/sources/genicam/aravis-library.js';
import { genicamSource } from '../../../../connectors/sources/genicam/genicam-source.js';
import type { GenicamSourceSettings } from '../../../../connectors/sources/genicam/genicam-source-options.js';
import type { OpenedCamera } from '../../../../connectors/sources/genicam/line-stream.js';
import { simulatedLineScan } from '../../../../connectors/sources/simulated-line-scan.js';
import type { CameraSource } from '../../../../connectors/sources/source-state.js';
import { CAMERA_ID_RULE, isCameraId } from '../../../core/camera-id.js';
import type { CubeFrame } from '../../../core/frame.js';
import { CAMERA_FEATURE_OPTIONS, CAMERA_FEATURE_USAGE, cameraSettingsOf } from '../camera-settings.js';
import {
  type CliCommand,
  type CliIO,
  type CliValues,
  numberOption,
  stringOption,
  UsageError,
} from '../command.js';

const DTYPES: readonly WireCubeDtype[] = ['F32', 'U16', 'U8', 'I16', 'F64'];
const FROM_KINDS = ['simulated', 'envi', 'genicam'] as const;
/** Where the frames come from: the simulated camera, an ENVI replay or a GenICam camera. */
type FromKind = (typeof FROM_KINDS)[number];
/** The flags only `--from genicam` takes (`--width` is shared with `--from simulated`). */
const GENICAM_FLAGS: readonly string[] = [
  'device',
  'calibration',
  ...Object.keys(CAMERA_FEATURE_OPTIONS).filter((name) => name !== 'width'),
];
/** Rows per block when --block-rows is absent: 8 x 256 x 61 float32 is ~0.5 MB, under NATS's default 1 MB max_payload. */
const DEFAULT_BLOCK_ROWS = 8;

/** The parsed command line of `publish`. */
interface PublishArgs {
  from: FromKind;
  camera: string;
  blocks: number | undefined;
  path: string | undefined;
  seed: number;
  width: number;
  blockRows: number;
  linesPerSecond: number | undefined;
  /** The NATS server, or a cluster's servers. */
  to: string[];
  stream: string;
  subjectPrefix: string;
  dtype: WireCubeDtype;
  maxInFlight: number;
  connectTimeoutMs: number;
  maxAgeMs: number;
  maxBytes: number;
  duplicateWindowMs: number;
  /** Replicas of a stream the gateway creates (3 on a JetStream cluster). */
  replicas: number;
  /** `--from genicam`: the camera and its settings, with the camera id, block rows and blocks. */
  genicam: GenicamSourceSettings | undefined;
}

function optionalNumber(values: CliValues, name: string, range: Parameters<typeof numberOption>[3]) {
  const value = numberOption(values, name, Number.NaN, range);
  return Number.isNaN(value) ? undefined : value;
}

/** Refuses the flags of another `--from` kind, naming the flag and the kinds it is for. */
function checkFlagsOf(values: CliValues, from: FromKind): void {
  const onlyFor: [flags: readonly string[], kinds: readonly FromKind[]][] = [
    [['path'], ['envi']],
    [['seed'], ['simulated']],
    [['width'], ['simulated', 'genicam']],
    [['lines-per-second'], ['simulated', 'envi']],
    [GENICAM_FLAGS, ['genicam']],
  ];
  for (const [flags, kinds] of onlyFor) {
    if (kinds.includes(from)) continue;
    const given = flags.find((name) => values[name] !== undefined);
    if (given !== undefined) throw new UsageError(`--${given} is for --from ${kinds.join(' or ')} only`);
  }
}

/** `--from genicam`: the camera settings as `capture` reads them, `--device` naming the camera. */
async function genicamSettingsOf(
  values: CliValues,
  camera: string,
  blockRows: number,
  blocks: number | undefined,
): Promise<GenicamSourceSettings> {
  // A --config's blockRows and maxBlocks are the service's: publish has its own flags for both.
  const { maxBlocks: _service, ...settings } = await cameraSettingsOf(values, { deviceFlag: 'device' });
  const calibration = stringOption(values, 'calibration');
  return {
    ...settings,
    cameraId: camera,
    blockRows,
    ...(blocks === undefined ? {} : { maxBlocks: blocks }),
    ...(calibration === undefined ? {} : { calibration }),
  };
}

async function parsePublishArgs(values: CliValues): Promise<PublishArgs> {
  const from = stringOption(values, 'from', true) as FromKind;
  if (!FROM_KINDS.includes(from)) {
    throw new UsageError(`--from must be simulated, envi or genicam, got ${JSON.stringify(from)}`);
  }
  const camera = stringOption(values, 'camera', true);
  if (!isCameraId(camera)) throw new UsageError(`--camera ${JSON.stringify(camera)} ${CAMERA_ID_RULE}`);
  checkFlagsOf(values, from);
  const path = stringOption(values, 'path');
  if (from === 'envi' && path === undefined) throw new UsageError('--from envi needs --path DIR_OR_HDR');
  const to = stringOption(values, 'to', true)
    .split(',')
    .map((url) => url.trim());
  if (!to.every((url) => /^(nats|tls):\/\/[^\s/]+$/.test(url))) {
    throw new UsageError(
      `--to must be nats://HOST:PORT (a cluster: comma-separated), got ${JSON.stringify(to.join(','))}`,
    );
  }
  const dtype = (stringOption(values, 'dtype') ?? 'F32').toUpperCase() as WireCubeDtype;
  if (!DTYPES.includes(dtype))
    throw new UsageError(`--dtype must be one of ${DTYPES.join(', ')}, got "${dtype}"`);
  const blocks = optionalNumber(values, 'blocks', { integer: true, min: 1 });
  const blockRows = numberOption(values, 'block-rows', DEFAULT_BLOCK_ROWS, { integer: true, min: 1 });
  return {
    from,
    camera,
    blocks,
    path,
    seed: numberOption(values, 'seed', 1, { integer: true, min: 0, max: 2 ** 32 - 1 }),
    width:
      from === 'simulated' ? numberOption(values, 'width', 256, { integer: true, min: 1, max: 16_384 }) : 0,
    blockRows,
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
    replicas: numberOption(values, 'stream-replicas', FRAME_STREAM_DEFAULTS.replicas, {
      integer: true,
      min: 1,
      max: 5,
    }),
    genicam: from === 'genicam' ? await genicamSettingsOf(values, camera, blockRows, blocks) : undefined,
  };
}

/** What a GenICam camera lost and how often it came back, for the summary line. */
interface CameraLosses {
  incomplete: number;
  gap: number;
  reconnects: number;
}

function cameraLine(camera: OpenedCamera): string {
  return `${camera.id} (${camera.vendor} ${camera.model}, serial ${camera.serial})`;
}

/**
 * The GenICam source of `--from genicam`: lost lines counted into `losses`, connection issues,
 * reconnects and reference warnings on stderr (the camera is retried until it answers).
 */
function openGenicam(settings: GenicamSourceSettings, io: CliIO, losses: CameraLosses): CameraSource {
  return genicamSource({
    ...settings,
    onOpened: (camera, reconnected) => {
      if (!reconnected) return;
      losses.reconnects++;
      io.err(`camera ${cameraLine(camera)} is back: publishing goes on\n`);
    },
    onDropped: (dropped) => {
      if (dropped.reason === 'gap') losses.gap += dropped.lines;
      else losses.incomplete += dropped.lines;
    },
    onConnectionIssue: ({ error, attempt, retryInMs }) =>
      io.err(
        `warning: camera ${settings.camera} unreachable (${error.message}); attempt ${attempt}, retrying in ${retryInMs} ms\n`,
      ),
    onWarning: (message) => io.err(`warning: ${message}\n`),
  });
}

/** The summary's tail for a GenICam camera: lines lost (by reason) and reconnects. */
function lossesText(losses: CameraLosses): string {
  const lost = losses.incomplete + losses.gap;
  const reasons = lost > 0 ? ` (incomplete ${losses.incomplete}, gaps ${losses.gap})` : '';
  const reconnects = losses.reconnects > 0 ? `, ${losses.reconnects} reconnect(s)` : '';
  return `, ${lost} camera lines lost${reasons}${reconnects}`;
}

function openSource(args: PublishArgs, demand: Demand, io: CliIO, losses: CameraLosses): CameraSource {
  if (args.genicam !== undefined) return openGenicam(args.genicam, io, losses);
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
 * `cubestream publish`: the camera gateway. Captures blocks from the simulated camera, an ENVI
 * replay or a GenICam camera (`--from genicam --device ADDRESS_OR_ID`, through the `genicam`
 * source: features set and read back, lost lines counted, the camera reopened when lost) and
 * publishes each as a safetensors frame message (docs/wire-format.md §1) to the JetStream stream
 * `CUBESTREAM_FRAMES` on `<prefix>.frames.<camera>`, creating the stream when missing or checking
 * that it captures the subject; at most `--max-in-flight` publishes await their PubAck;
 * `Nats-Msg-Id` = `<camera>:<capturedAt>:<frameId>:<rowOffset>`. Exits 0 after `--blocks`
 * blocks, at the end of the replay, or on SIGINT/SIGTERM, once every publish is acknowledged,
 * with one summary line (for a GenICam camera with the lines it lost); exits 1 when no server
 * answers within `--connect-timeout`, or with the one line naming the packages when `--from
 * genicam` finds no Aravis.
 *
 * `--camera` is the cubestream camera id (the subject token, as for the other kinds), so the
 * GenICam device is named by `--device` (`capture`'s `--camera`); the other GenICam flags are
 * `capture`'s.
 *
 * @example
 * ```sh
 * cubestream publish --from simulated --camera line1 --blocks 1000 --to nats://127.0.0.1:4222
 * cubestream publish --from genicam --camera line1 --device 192.168.1.20 --pixel-format Mono16 \
 *   --height 224 --wavelengths white.hdr --dtype U16 --to nats://127.0.0.1:4222
 * ```
 */
export const publishCommand: CliCommand = {
  name: 'publish',
  summary: 'Camera gateway: publish frames to the JetStream stream CUBESTREAM_FRAMES',
  usage: `cubestream publish --from simulated|envi|genicam --camera ID --to nats://HOST:PORT [options]
  --from KIND              simulated: the simulated line-scan camera; envi: an ENVI replay (--path);
                           genicam: a GenICam camera (--device, below)
  --camera ID              camera id of the frames and subject token (${CAMERA_ID_RULE})
  --blocks N               stop after N blocks (default: simulated and genicam run until SIGINT/SIGTERM, envi to the end of the replay)
  --path DIR_OR_HDR        (envi) a cube header, or a folder of cubes replayed in path order
  --seed N                 (simulated) seed of the scene (default 1)
  --width N                (simulated) pixels per line (default 256); (genicam) the Width feature
  --block-rows N           lines per block = per message (default ${DEFAULT_BLOCK_ROWS})
  --lines-per-second R     (simulated, envi) pace like a line-scan camera (default: as fast as the server acknowledges)
  --dtype T                cube element type on the wire: F32 (default), U16, U8, I16, F64 (integers round and clamp);
                           U16 carries a camera's counts exactly in half the bytes
  --to nats://HOST:PORT    the NATS server (JetStream enabled); a cluster: its URLs, comma-separated
  --stream NAME            stream name (default ${FRAME_STREAM_DEFAULTS.name})
  --subject-prefix P       subjects <P>.frames.<camera> (default cubestream)
  --max-in-flight N        most publishes awaiting their PubAck (default 64)
  --connect-timeout S      give up (exit 1) when no server answers within S seconds (default 10)
  A missing stream is created with subjects <P>.frames.>, file storage and:
  --max-age S              oldest frame kept, seconds; 0 = unlimited (default ${FRAME_STREAM_DEFAULTS.maxAgeMs / 1000})
  --max-bytes N            most bytes kept, oldest discarded first; -1 = unlimited (default ${FRAME_STREAM_DEFAULTS.maxBytes}, 1 GiB)
  --duplicate-window S     Nats-Msg-Id de-duplication window, seconds (default ${FRAME_STREAM_DEFAULTS.duplicateWindowMs / 1000})
  --stream-replicas N      copies kept by a JetStream cluster, 1-5 (default ${FRAME_STREAM_DEFAULTS.replicas}; 3 on a 3-node cluster)
  An existing stream must capture <P>.frames.<camera>, else exit 1 naming its subjects.
  Nats-Msg-Id = <camera>:<capturedAt>:<frameId>:<rowOffset>, so a retried publish is stored once.
  --from genicam (Aravis; the camera is retried until it answers, lost lines are counted and left out):
  --device ID            Aravis device id (cubestream cameras), IP address or serial (capture's --camera)
  --calibration DIR      references (cubestream calibrate): publish reflectance instead of counts (keep --dtype F32)
${CAMERA_FEATURE_USAGE}
  (a --config's source gives the device, features, layout, wavelengths and references; --camera,
  --block-rows and --blocks are publish's own)
  Prints one line: blocks, bytes and seconds (genicam: and the camera lines lost).`,
  options: {
    ...CAMERA_FEATURE_OPTIONS,
    from: { type: 'string' },
    camera: { type: 'string' },
    device: { type: 'string' },
    calibration: { type: 'string' },
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
    'stream-replicas': { type: 'string' },
  },
  async run({ values }, io) {
    const args = await parsePublishArgs(values);
    // Aravis is loaded on this thread before the acquisition worker starts (see readCameraLines),
    // and before the server is reached: without it, one line naming the packages, and no stream.
    if (args.genicam !== undefined) await loadAravis();
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
        replicas: args.replicas,
      },
    });
    const started = performance.now();
    const losses: CameraLosses = { incomplete: 0, gap: 0, reconnects: 0 };
    const source = openSource(args, publisher.demand, io, losses);
    // A GenICam source ends itself after maxBlocks, closing the camera before it completes.
    const limit = args.genicam === undefined ? args.blocks : undefined;
    const onSignal = (): void => running.stop();
    const running = pump(source.frames, publisher, limit);
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    try {
      await running.done;
      const stats = await publisher.flush(60_000);
      const seconds = (performance.now() - started) / 1000;
      const duplicates = stats.duplicates > 0 ? `, ${stats.duplicates} already stored` : '';
      const camera = args.genicam === undefined ? '' : lossesText(losses);
      io.out(
        `published ${stats.blocks} blocks, ${stats.bytes} bytes (${megabytes(stats.bytes)}) to ${publisher.stream.config.name} on ${publisher.subjectFor(args.camera)} in ${seconds.toFixed(2)} s${duplicates}${camera}\n`,
      );
      const lost = losses.incomplete + losses.gap;
      if (lost > 0)
        io.err(
          `warning: ${lost} camera lines were lost (incomplete ${losses.incomplete}, gaps ${losses.gap}); each block holds the next lines that arrived\n`,
        );
      return 0;
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      await publisher.close();
    }
  },
};
