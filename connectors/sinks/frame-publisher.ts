/**
 * The camera gateway's publisher: frames as safetensors messages (docs/wire-format.md §1) into a
 * JetStream stream (default `CUBESTREAM_FRAMES`) on `<prefix>.frames.<cameraId>`, each
 * acknowledged by the server (PubAck) and de-duplicated by `Nats-Msg-Id`
 * `<cameraId>:<capturedAt>:<frameId>:<rowOffset>`, so a retried publish is stored once.
 */
import {
  JetStreamApiError,
  type JetStreamClient,
  jetstream,
  jetstreamManager,
  type PubAck,
  type StreamInfo,
} from '@nats-io/jetstream';
import {
  InvalidSubjectError,
  type NatsConnection,
  type NodeConnectionOptions,
  PermissionViolationError,
} from '@nats-io/transport-node';
import { CubestreamError } from '../../src/core/errors.js';
import type { CubeFrame } from '../../src/core/frame.js';
import { OptionError } from '../../src/core/options.js';
import { redactUrl } from '../../src/telemetry/redact.js';
import { encodeFrameMessage, type WireCubeDtype } from '../codec/frame-safetensors.js';
import { backoffDelay } from '../shared/backoff.js';
import { connectNats } from '../shared/nats-connect.js';
import { withTimeout } from '../shared/with-timeout.js';
import type { Demand } from '../sources/demand.js';
import { SinkAuthError, SinkConnectTimeoutError, SinkTlsError } from './errors.js';
import { ensureFrameStream, type FrameStreamConfig } from './frame-stream.js';
import { subjectCovers } from './nats-stream.js';
import { Waker } from './retry.js';
import { assertNatsPrefix, decisionMsgId } from './topics.js';

/** Options of {@link JetStreamFramePublisher.connect}. */
export interface FramePublisherOptions {
  /** Server URL(s), e.g. `nats://127.0.0.1:4222`. */
  servers: string | readonly string[];
  /** First subject token: frames go to `<prefix>.frames.<cameraId>`; default `cubestream`. */
  subjectPrefix?: string;
  /** The stream created when missing, or checked (see {@link FrameStreamConfig} for its defaults). */
  stream?: FrameStreamConfig;
  /**
   * Cameras this publisher sends: an existing stream must capture their subjects. Absent: it
   * must capture `<prefix>.frames.>` (every camera).
   */
  cameraIds?: readonly string[];
  /** Most publishes awaiting their PubAck at once; default 64. */
  maxInFlight?: number;
  /** Wait for one PubAck, ms; default 5 000. */
  publishTimeoutMs?: number;
  /**
   * Attempts per frame after a timeout or "no responders", with the same `Nats-Msg-Id` (backoff
   * 0.2 s doubling to 2 s); default 30 more, about a minute: a cluster electing a new stream
   * leader after a node loss (10, about 17 s, was once too short for a loaded 3-node test
   * cluster, and a gateway that gives up loses the camera's frames).
   */
  retries?: number;
  /** How long {@link JetStreamFramePublisher.connect} waits for the server and the stream; default 10 000 ms. */
  connectTimeoutMs?: number;
  /** Element type of the `cube` tensor (default F32; U16 halves the bytes of integer counts). */
  dtype?: WireCubeDtype;
  /** Connection name shown by the server; default `cubestream-gateway`. */
  connectionName?: string;
}

/** What a publisher has sent so far (acknowledged publishes only). */
export interface FramePublisherStats {
  /** Frames acknowledged by the stream (duplicates included). */
  readonly blocks: number;
  /** Message bytes of those frames. */
  readonly bytes: number;
  /** Of those, frames the stream had already stored (same `Nats-Msg-Id` within its window). */
  readonly duplicates: number;
}

/** A frame that cannot be published (too large for the server, a subject the stream does not capture, refused). */
export class FramePublishError extends CubestreamError {
  /**
   * @param code - `too_large`, `subject` or `rejected`
   * @param message - what went wrong, naming the subject
   */
  constructor(code: 'too_large' | 'subject' | 'rejected', message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

const COMPONENT = 'framePublisher';
const DEFAULTS = {
  subjectPrefix: 'cubestream',
  maxInFlight: 64,
  publishTimeoutMs: 5_000,
  retries: 30,
  connectTimeoutMs: 10_000,
  connectionName: 'cubestream-gateway',
} as const;

function positiveInteger(name: string, value: number | undefined, min = 1): void {
  if (value !== undefined && !(Number.isSafeInteger(value) && value >= min)) {
    throw new OptionError(
      COMPONENT,
      name,
      value,
      min === 0 ? 'a non-negative integer' : 'a positive integer',
    );
  }
}

/** Errors after which sending the same message again cannot succeed. */
function isPermanent(error: unknown): boolean {
  if (error instanceof JetStreamApiError) return error.status !== 503;
  return error instanceof PermissionViolationError || error instanceof InvalidSubjectError;
}

/** The `Nats-Msg-Id` of a frame: `<cameraId>:<capturedAt>:<frameId>:<rowOffset>`. */
export function frameMsgId(
  frame: Pick<CubeFrame, 'cameraId' | 'capturedAt' | 'frameId' | 'rowOffset'>,
): string {
  return decisionMsgId(frame);
}

/**
 * Publishes frames to a JetStream stream with bounded in-flight publishes: {@link publish}
 * encodes the frame at once (its buffer may be released as soon as the call returns), waits
 * while `maxInFlight` publishes await their PubAck, then sends; a timeout or "no responders" is
 * retried with the same `Nats-Msg-Id`, so a frame is stored once. {@link flush} waits for every
 * PubAck and reports the first failure.
 *
 * @example
 * ```ts
 * import { simulatedLineScan } from 'cubestream/connectors';
 * const publisher = await JetStreamFramePublisher.connect({ servers: 'nats://127.0.0.1:4222', cameraIds: ['cam1'] });
 * const camera = simulatedLineScan({ cameraId: 'cam1', maxBlocks: 100, demand: publisher.demand });
 * camera.frames.subscribe((frame) => void publisher.publish(frame).finally(() => frame.release?.()));
 * // ... once the source completed:
 * const { blocks, bytes } = await publisher.flush(30_000);
 * await publisher.close();
 * ```
 */
export class JetStreamFramePublisher {
  /** The stream as found or created at connect. */
  readonly stream: StreamInfo;
  private readonly nc: NatsConnection;
  private readonly js: JetStreamClient;
  private readonly prefix: string;
  private readonly options: FramePublisherOptions;
  private readonly maxInFlight: number;
  private readonly subjects = new Map<string, string>();
  private readonly room = new Waker();
  private readonly retryWait = new Waker();
  private inFlightCount = 0;
  private blocks = 0;
  private bytes = 0;
  private duplicates = 0;
  private failure: Error | undefined;
  private closed = false;

  private constructor(
    nc: NatsConnection,
    stream: StreamInfo,
    prefix: string,
    options: FramePublisherOptions,
  ) {
    this.nc = nc;
    this.stream = stream;
    this.prefix = prefix;
    this.options = options;
    this.maxInFlight = options.maxInFlight ?? DEFAULTS.maxInFlight;
    this.js = jetstream(nc, { timeout: options.publishTimeoutMs ?? DEFAULTS.publishTimeoutMs });
  }

  /**
   * Connects (retrying while the server does not answer), then creates or checks the stream.
   *
   * @throws {@link SinkConnectTimeoutError} when no server answered within `connectTimeoutMs`;
   *   `StreamConfigError` when the stream does not capture the subjects or cannot be created;
   *   {@link SinkTlsError} / {@link SinkAuthError}; `OptionError` for a bad option
   */
  static async connect(options: FramePublisherOptions): Promise<JetStreamFramePublisher> {
    const prefix = assertNatsPrefix(options.subjectPrefix ?? DEFAULTS.subjectPrefix);
    positiveInteger('maxInFlight', options.maxInFlight);
    positiveInteger('publishTimeoutMs', options.publishTimeoutMs);
    positiveInteger('retries', options.retries, 0);
    positiveInteger('connectTimeoutMs', options.connectTimeoutMs);
    const servers = typeof options.servers === 'string' ? [options.servers] : [...options.servers];
    if (servers.length === 0) throw new OptionError(COMPONENT, 'servers', servers, 'at least one URL');
    const target = redactUrl(servers.join(','));
    const timeoutMs = options.connectTimeoutMs ?? DEFAULTS.connectTimeoutMs;
    let gaveUp = false;
    const waker = new Waker();
    const connection: NodeConnectionOptions = {
      servers,
      name: options.connectionName ?? DEFAULTS.connectionName,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 1_000,
      timeout: Math.min(timeoutMs, 20_000),
    };
    const setup = (async () => {
      const nc = await connectNats(connection, {
        isClosed: () => gaveUp,
        wait: (ms) => waker.wait(ms),
        backoff: { initialMs: 250, maxMs: 2_000 },
        fatal: (kind, detail, cause) =>
          kind === 'tls'
            ? new SinkTlsError('frames', target, detail, { cause })
            : new SinkAuthError('frames', target, detail, { cause }),
      });
      try {
        if (gaveUp) throw new Error('gave up');
        const createWith = `${prefix}.frames.>`;
        const required = options.cameraIds?.map((id) => `${prefix}.frames.${id}`) ?? [createWith];
        const info = await ensureFrameStream(
          await jetstreamManager(nc),
          createWith,
          required,
          options.stream,
        );
        if (gaveUp) throw new Error('gave up');
        return new JetStreamFramePublisher(nc, info, prefix, options);
      } catch (error) {
        await nc.close();
        throw error;
      }
    })();
    try {
      return await withTimeout(
        setup,
        timeoutMs,
        () => new SinkConnectTimeoutError('frames', target, timeoutMs),
      );
    } catch (error) {
      gaveUp = true;
      waker.wake();
      setup.catch(() => undefined);
      throw error;
    }
  }

  /** Publishes awaiting their PubAck. */
  get inFlight(): number {
    return this.inFlightCount;
  }

  /** Acknowledged frames and bytes so far. */
  get stats(): FramePublisherStats {
    return { blocks: this.blocks, bytes: this.bytes, duplicates: this.duplicates };
  }

  /** The subject of a camera's frames, `<prefix>.frames.<cameraId>`; throws unless the stream captures it. */
  subjectFor(cameraId: string): string {
    const known = this.subjects.get(cameraId);
    if (known !== undefined) return known;
    const subject = `${this.prefix}.frames.${cameraId}`;
    const patterns = this.stream.config.subjects ?? [];
    if (!patterns.some((pattern) => subjectCovers(pattern, subject))) {
      throw new FramePublishError(
        'subject',
        `stream ${this.stream.config.name} (subjects ${JSON.stringify(patterns)}) does not capture ${subject}`,
      );
    }
    this.subjects.set(cameraId, subject);
    return subject;
  }

  /**
   * A source's {@link Demand}: resolves once fewer than `maxInFlight` publishes await their
   * PubAck (undefined when there is room now), so an unpaced source never runs ahead.
   */
  readonly demand: Demand = () => (this.hasRoom() ? undefined : this.untilRoom());

  /**
   * Encodes `frame` (synchronously: its buffer may be reused once this returns), waits for room
   * among the in-flight publishes, then sends it. Resolves once sent; its PubAck is awaited in
   * the background (see {@link flush}).
   *
   * @throws {@link FramePublishError} for a message over the server's `max_payload` or a subject
   *   the stream does not capture; an earlier publish's failure; an error once closed
   */
  async publish(frame: CubeFrame): Promise<void> {
    this.throwIfUnusable();
    const subject = this.subjectFor(frame.cameraId);
    const payload = encodeFrameMessage(
      frame,
      this.options.dtype === undefined ? {} : { dtype: this.options.dtype },
    );
    const maxPayload = this.nc.info?.max_payload;
    if (maxPayload !== undefined && payload.byteLength > maxPayload) {
      throw new FramePublishError(
        'too_large',
        `a ${frame.height}x${frame.width}x${frame.bands} block is a ${payload.byteLength}-byte message, over the server's max_payload of ${maxPayload} bytes: send fewer rows per block, a smaller dtype, or raise max_payload`,
      );
    }
    const msgId = frameMsgId(frame);
    while (!this.hasRoom()) await this.untilRoom();
    this.throwIfUnusable();
    this.inFlightCount += 1;
    this.send(subject, payload, msgId)
      .then(
        (ack) => {
          this.blocks += 1;
          this.bytes += payload.byteLength;
          if (ack.duplicate) this.duplicates += 1;
        },
        (error: unknown) => {
          this.failure ??=
            error instanceof Error && isPermanent(error)
              ? new FramePublishError('rejected', `publish to ${subject} rejected: ${error.message}`, {
                  cause: error,
                })
              : new FramePublishError('rejected', `publish to ${subject} failed: ${String(error)}`, {
                  cause: error,
                });
        },
      )
      .finally(() => {
        this.inFlightCount -= 1;
        this.room.wake();
      });
  }

  /**
   * Waits until every publish has its PubAck; resolves with the stats.
   *
   * @throws the first failed publish; a timeout error when acks are still missing after `timeoutMs`
   */
  async flush(timeoutMs = 30_000): Promise<FramePublisherStats> {
    const deadline = Date.now() + timeoutMs;
    while (this.inFlightCount > 0) {
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new CubestreamError(
          'flush_timeout',
          `frames: ${this.inFlightCount} publish(es) still unacknowledged after ${timeoutMs} ms`,
        );
      }
      await this.room.wait(left);
    }
    if (this.failure !== undefined) throw this.failure;
    return this.stats;
  }

  /** Stops retries, closes the connection (publishes still in flight are abandoned: call {@link flush} first). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.retryWait.wake();
    this.room.wake();
    if (!this.nc.isClosed()) await this.nc.close();
  }

  private hasRoom(): boolean {
    return this.inFlightCount < this.maxInFlight || this.closed || this.failure !== undefined;
  }

  private untilRoom(): Promise<void> {
    return this.room.wait(60_000);
  }

  private throwIfUnusable(): void {
    if (this.failure !== undefined) throw this.failure;
    if (this.closed) throw new CubestreamError('closed', 'frames: the publisher is closed');
  }

  /** One JetStream publish, retried after a timeout or "no responders" with the same msgID. */
  private async send(subject: string, payload: Uint8Array, msgId: string): Promise<PubAck> {
    const retries = this.options.retries ?? DEFAULTS.retries;
    for (let attempt = 0; ; attempt += 1) {
      try {
        return await this.js.publish(subject, payload, { msgID: msgId, retries: 1 });
      } catch (error) {
        if (this.closed || attempt >= retries || isPermanent(error)) throw error;
        await this.retryWait.wait(backoffDelay(attempt, { initialMs: 200, maxMs: 2_000 }));
      }
    }
  }
}
