/**
 * Creates or checks the JetStream stream that stores frames (docs/wire-format.md §1 messages on
 * `<prefix>.frames.<cameraId>`), so that a camera gateway pointed at a misconfigured stream fails
 * at start with a clear message instead of as lost publishes later.
 */
import type { JetStreamManager, StreamInfo } from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import { StreamConfigError } from './errors.js';
import { ensureStream } from './nats-stream.js';

/** The stream the frames go to; absent fields take {@link FRAME_STREAM_DEFAULTS}. */
export interface FrameStreamConfig {
  /** Stream name; default `CUBESTREAM_FRAMES`. */
  name?: string;
  /** De-duplication window of `Nats-Msg-Id`, ms: must exceed the longest outage a retry bridges; default 120 000. */
  duplicateWindowMs?: number;
  /** Oldest frame kept, ms; 0 = unlimited; default 3 600 000 (1 h). */
  maxAgeMs?: number;
  /** Most bytes kept (the oldest frames are discarded beyond); -1 = unlimited; default 1 GiB. */
  maxBytes?: number;
  /** `file` (default) or `memory`. */
  storage?: 'file' | 'memory';
  /** Replicas in a cluster; default 1. */
  replicas?: number;
  /** Create the stream when missing (default true); false: only check it. */
  create?: boolean;
}

/**
 * The defaults of {@link FrameStreamConfig}: frames are large and only wait for a worker, so the
 * stream keeps at most an hour and 1 GiB of them (the oldest are discarded first), on disk.
 */
export const FRAME_STREAM_DEFAULTS = {
  name: 'CUBESTREAM_FRAMES',
  duplicateWindowMs: 120_000,
  maxAgeMs: 3_600_000,
  maxBytes: 1024 ** 3,
  storage: 'file',
  replicas: 1,
  create: true,
} as const satisfies Required<FrameStreamConfig>;

/**
 * Makes sure stream `config.name` exists and captures every subject of `required` (e.g.
 * `cubestream.frames.cam1`, or `cubestream.frames.>` for every camera). A missing stream is
 * created (unless `create: false`) with subjects `[createWith]`, file storage, the duplicate
 * window, max age and max bytes of `config`.
 *
 * @param jsm - a JetStream manager of the connection
 * @param createWith - the subject a new stream captures, e.g. `cubestream.frames.>`
 * @param required - subjects an existing stream must capture (default `[createWith]`)
 * @throws {@link StreamConfigError} naming the stream and its subjects when they do not cover
 *   `required`, or when it cannot be looked up or created (JetStream disabled, subjects overlap
 *   another stream's)
 * @example
 * ```ts
 * declare const jsm: import('@nats-io/jetstream').JetStreamManager;
 * const info = await ensureFrameStream(jsm, 'cubestream.frames.>', ['cubestream.frames.cam1']);
 * ```
 */
export function ensureFrameStream(
  jsm: JetStreamManager,
  createWith: string,
  required: readonly string[] = [createWith],
  config: FrameStreamConfig = {},
): Promise<StreamInfo> {
  return ensureStream(jsm, {
    name: config.name ?? FRAME_STREAM_DEFAULTS.name,
    create: config.create ?? FRAME_STREAM_DEFAULTS.create,
    createSetting: 'create',
    createWith,
    required,
    settings: {
      duplicate_window: nanos(config.duplicateWindowMs ?? FRAME_STREAM_DEFAULTS.duplicateWindowMs),
      max_age: nanos(config.maxAgeMs ?? FRAME_STREAM_DEFAULTS.maxAgeMs),
      max_bytes: config.maxBytes ?? FRAME_STREAM_DEFAULTS.maxBytes,
      storage: config.storage ?? FRAME_STREAM_DEFAULTS.storage,
      num_replicas: config.replicas ?? FRAME_STREAM_DEFAULTS.replicas,
    },
  });
}
