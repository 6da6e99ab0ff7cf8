import { readFile } from 'node:fs/promises';
import { type Consumer, type JsMsg, jetstream, jetstreamManager } from '@nats-io/jetstream';
import {
  type ConnectionOptions,
  credsAuthenticator,
  type NatsConnection,
  type NodeConnectionOptions,
} from '@nats-io/transport-node';
import { asError } from '../../src/core/errors.js';
import { OptionError } from '../../src/core/options.js';
import { redactUrl } from '../../src/telemetry/redact.js';
import { backoffDelay } from '../shared/backoff.js';
import { CameraLeases, type LeaseLoss } from '../shared/camera-leases.js';
import { CameraStateStore } from '../shared/camera-state-store.js';
import {
  type CameraStateEvents,
  type CameraStateKeeper,
  CameraStateSync,
} from '../shared/camera-state-sync.js';
import { connectNats } from '../shared/nats-connect.js';
import { ensureFrameStream } from '../sinks/frame-stream.js';
import { assertNatsPrefix } from '../sinks/topics.js';
import {
  type BrokerFeed,
  type BrokerFrameSourceOptions,
  type BrokerSubscription,
  brokerFrameSource,
  type RejectedMessage,
} from './broker-frame-source.js';
import { JETSTREAM_SOURCE_DEFAULTS } from './broker-source-options.js';
import type { Demand } from './demand.js';
import { ensureFrameConsumer, resumeFrameConsumer } from './frame-consumer.js';
import { cameraIdFromSubject, watchConnection } from './nats-frames.js';
import type { CameraSource } from './source-state.js';

/** A frame delivered more than `maxDeliver` times without its decision delivered; handed to `onExhausted`. */
export interface ExhaustedMessage {
  /** The camera named by the subject, if any (not checked against the admitted cameras). */
  readonly cameraId?: string;
  /** The subject the frame is stored on. */
  readonly channel: string;
  /** Size of the payload in bytes. */
  readonly bytes: number;
  /** This delivery's number (`maxDeliver + 1`). */
  readonly deliveries: number;
  /** The frame's sequence in the stream. */
  readonly streamSequence: number;
  /** The gateway's `Nats-Msg-Id` (`<cameraId>:<capturedAt>:<frameId>:<rowOffset>`), if set. */
  readonly msgId?: string;
}

/** Options of {@link jetstreamFrames}; absent settings take `JETSTREAM_SOURCE_DEFAULTS`. */
export interface JetStreamFramesOptions extends BrokerFrameSourceOptions {
  /** Server URL(s), e.g. `nats://127.0.0.1:4222`. */
  servers: string | string[];
  /** Stream of the frames; default `CUBESTREAM_FRAMES`. */
  stream?: string;
  /** Create the stream when missing (default true); false: only check it. */
  createStream?: boolean;
  /** Frames are on `<subjectPrefix>.frames.<cameraId>`; default `cubestream`. */
  subjectPrefix?: string;
  /** Durable pull consumer name; default `cubestream-worker`. */
  durable?: string;
  /** Seconds the server waits for an ack before delivering a frame again; default 30. */
  ackWaitSeconds?: number;
  /** Most frames delivered and not acknowledged; default 16. */
  maxAckPending?: number;
  /** Deliveries of a frame before it is dead-lettered and terminated on the next; default 5. */
  maxDeliver?: number;
  /** Asked before each pull: a frame is pulled only once the consumer has room for it. */
  demand?: Demand;
  /** Called for a frame delivered more than `maxDeliver` times; it is then terminated. */
  onExhausted?: (exhausted: ExhaustedMessage) => void;
  /** A `.creds` file (JWT + nkey seed), read at connect. */
  credsFile?: string;
  /** Extra connection options (user/pass, token, TLS, name). */
  connection?: Omit<ConnectionOptions, 'servers'>;
  /**
   * Share the cameras among the workers by leases (docs/scaling-out.md): each camera has its own
   * durable consumer (`<durable>-<camera>`), consumed only by the worker holding the camera's
   * lease in the KV bucket, so a camera's state never forks and its frames are decided in order.
   * Needs `cameras.cameraIds` listed (no unlisted cameras).
   */
  leases?: {
    bucket?: string;
    ttlMs?: number;
    replicas?: number;
    workerId: string;
    /** A camera acquired or given up. */
    onChange?: (event: LeaseEvent) => void;
    /** A lease operation failed (retried on the next renewal). */
    onError?: (error: Error) => void;
    /**
     * Carry each camera's pipeline state from owner to owner (docs/scaling-out.md §3): loaded
     * from the Object Store `bucket` (default `CUBESTREAM_STATE`, `replicas` as the leases')
     * before an acquired camera's first frame, written every N blocks while owned and once more
     * when released after its frames drained.
     */
    state?: CameraStateEvents & {
      keeper: CameraStateKeeper;
      bucket?: string;
    };
  };
  /**
   * How long one pull waits for a frame, ms (also the longest a stop waits for it); default
   * 5 000. The server's idle heartbeat is half of it: two missed (a stalled event loop) end the pull.
   */
  pullExpiresMs?: number;
}

/** A camera this worker acquired or gave up (leased sources). */
export interface LeaseEvent {
  readonly camera: string;
  /** `expired`: not renewed in time (broker unreachable), stopped before another worker may take it. */
  readonly event: 'acquired' | LeaseLoss;
  readonly workerId: string;
}

/** Longest a closing source waits for the acks of the frames still in the pipeline, ms. */
const MAX_CLOSE_WAIT_MS = 10_000;
/** How long one pull waits for a frame, ms (the client accepts 1 000 at least). */
const DEFAULT_PULL_EXPIRES_MS = 5_000;
/** How often a leased source's puller looks again for room freed by another camera's pull, ms. */
const SLOT_RECHECK_MS = 50;
/** Longest reason sent with a `term`. */
const MAX_TERM_REASON_CHARS = 200;

function serverList(servers: string | readonly string[]): string {
  return typeof servers === 'string' ? servers : servers.join(',');
}

/**
 * The subject consumed: the one admitted camera's, else every camera's (the camera gate then
 * refuses the cameras not admitted: dead-lettered and terminated).
 */
function consumedSubject(prefix: string, options: JetStreamFramesOptions): string {
  const cameras = options.cameras;
  const only =
    cameras?.cameraIds.length === 1 && cameras.acceptUnlisted !== true ? cameras.cameraIds[0] : undefined;
  return only === undefined ? `${prefix}.frames.>` : `${prefix}.frames.${only}`;
}

/** Subjects the stream must capture: each admitted camera's, or every camera's. */
function requiredSubjects(prefix: string, options: JetStreamFramesOptions): string[] {
  const cameras = options.cameras;
  if (cameras === undefined || cameras.acceptUnlisted === true || cameras.cameraIds.length === 0) {
    return [`${prefix}.frames.>`];
  }
  return cameras.cameraIds.map((id) => `${prefix}.frames.${id}`);
}

/** True when the server takes a reason with `+TERM` (2.10.4 on; an older one ignores such a term). */
function termTakesReason(nc: NatsConnection): boolean {
  const [major = 0, minor = 0, patch = 0] = (nc.info?.version ?? '0.0.0')
    .split(/[.-]/)
    .map((part) => Number.parseInt(part, 10) || 0);
  return major > 2 || (major === 2 && (minor > 10 || (minor === 10 && patch >= 4)));
}

function sleep(ms: number, cut: Promise<void>): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    void cut.then(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** The frames of one connection: pulls with demand, hands each to the feed with its ack. */
class FramePuller implements BrokerSubscription {
  readonly #outstanding = new Map<number, JsMsg>();
  #stopping = false;
  #stop: () => void = () => undefined;
  readonly #stopped = new Promise<void>((resolve) => {
    this.#stop = resolve;
  });
  #settle: (() => void) | undefined;
  #loop: Promise<void> = Promise.resolve();
  #lastReject: RejectedMessage | undefined;
  readonly #termReason: boolean;

  constructor(
    private readonly nc: NatsConnection,
    private readonly consumer: Consumer,
    private readonly feed: BrokerFeed,
    private readonly options: JetStreamFramesOptions,
    private readonly settings: { maxDeliver: number; ackWaitMs: number; pullExpiresMs: number },
    /** False for one camera's puller of a leased source: the connection is shared. */
    private readonly ownsConnection = true,
    /** Pulls in flight across a leased source's pullers (each asks room for all of them). */
    private readonly slots?: { inFlight: number },
  ) {
    this.#termReason = termTakesReason(nc);
  }

  /** Terminates `msg` (never delivered again), with the reason where the server takes one. */
  #term(msg: JsMsg, reason: string): void {
    if (this.#termReason) msg.term(reason.slice(0, MAX_TERM_REASON_CHARS));
    else msg.term();
  }

  /** Records the reason of the last rejected message (its `term` carries it). */
  rejected(rejected: RejectedMessage): void {
    this.#lastReject = rejected;
  }

  #takeReject(): RejectedMessage | undefined {
    const reject = this.#lastReject;
    this.#lastReject = undefined;
    return reject;
  }

  /** Starts the pull loop. */
  start(): void {
    this.#loop = this.#run().catch((error: unknown) => this.feed.failed(asError(error)));
  }

  /** Stops pulling, waits for the acks of the frames in flight (bounded), closes the connection. */
  async close(): Promise<void> {
    this.#stopping = true;
    this.#stop();
    await this.#loop;
    // Frames still in the pipeline are decided while it drains: wait for their acks (bounded;
    // past the ack wait the server delivers them again anyway), then hand the rest back at once.
    const deadline = Math.min(this.settings.ackWaitMs, MAX_CLOSE_WAIT_MS);
    if (this.#outstanding.size > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, deadline);
        this.#settle = () => {
          if (this.#outstanding.size > 0) return;
          clearTimeout(timer);
          resolve();
        };
      });
    }
    for (const msg of this.#outstanding.values()) msg.nak();
    this.#outstanding.clear();
    if (this.ownsConnection && !this.nc.isClosed()) await this.nc.drain();
  }

  async #run(): Promise<void> {
    let failures = 0;
    const slots = this.slots;
    while (!this.#stopping) {
      if (slots === undefined) {
        const wait = this.options.demand?.();
        if (wait !== undefined) await Promise.race([wait, this.#stopped]);
      } else {
        // Several cameras' pulls share the queue: room for every pull in flight, this one too.
        for (;;) {
          const wait = this.options.demand?.(slots.inFlight + 1);
          if (wait === undefined || this.#stopping) break;
          await Promise.race([wait, this.#stopped, sleep(SLOT_RECHECK_MS, this.#stopped)]);
        }
      }
      if (this.#stopping) break;
      let msg: JsMsg | null;
      if (slots !== undefined) slots.inFlight++;
      try {
        msg = await this.consumer.next({ expires: this.settings.pullExpiresMs });
      } catch (error) {
        if (slots !== undefined) slots.inFlight--;
        if (this.#stopping) break;
        if (this.nc.isClosed()) throw error;
        failures += 1;
        // One failed pull (heartbeats missed while the event loop was busy) is retried at once;
        // from the second in a row the source reports itself disconnected and backs off.
        if (failures === 1) continue;
        const retryInMs = backoffDelay(failures - 2, this.options.reconnect);
        this.feed.disconnected({
          error: new Error(`jetstream source: pull failed: ${asError(error).message}`, { cause: error }),
          attempt: failures - 1,
          retryInMs,
        });
        await sleep(retryInMs, this.#stopped);
        continue;
      }
      if (failures > 1) this.feed.connected();
      failures = 0;
      if (msg === null) {
        if (slots !== undefined) slots.inFlight--;
        continue;
      }
      // The frame enters the queue (or is refused) synchronously in #handle: its slot is free after.
      if (slots !== undefined) queueMicrotask(() => slots.inFlight--);
      if (this.#stopping) {
        msg.nak();
        break;
      }
      this.#handle(msg);
    }
  }

  #handle(msg: JsMsg): void {
    const seq = msg.info.streamSequence;
    const deliveries = msg.info.deliveryCount;
    const cameraId = cameraIdFromSubject(msg.subject);
    if (deliveries > this.settings.maxDeliver) {
      const msgId = msg.headers?.get('Nats-Msg-Id');
      this.options.onExhausted?.({
        ...(cameraId === undefined ? {} : { cameraId }),
        channel: msg.subject,
        bytes: msg.data.byteLength,
        deliveries,
        streamSequence: seq,
        ...(msgId === undefined || msgId === '' ? {} : { msgId }),
      });
      this.#term(msg, `max_deliver: delivered ${deliveries - 1} times without its decision delivered`);
      return;
    }
    let done = false;
    const ack = (): void => {
      if (done) return;
      done = true;
      this.#outstanding.delete(seq);
      msg.ack();
      this.#settle?.();
    };
    this.#outstanding.set(seq, msg);
    this.#lastReject = undefined;
    const outcome = this.feed.message(msg.data, msg.subject, cameraId, ack);
    if (outcome === 'emitted') return;
    done = true;
    this.#outstanding.delete(seq);
    if (outcome === 'closed') {
      msg.nak();
      return;
    }
    // Undecodable, or a camera not admitted: dead-lettered by onReject; never delivered again.
    const reject = this.#takeReject();
    const reason =
      reject === undefined ? 'rejected' : `rejected:${reject.error.code}: ${reject.error.message}`;
    this.#term(msg, reason);
  }
}

/**
 * Frames stored in a JetStream stream (default `CUBESTREAM_FRAMES`, on
 * `<subjectPrefix>.frames.<cameraId>`, as the camera gateway `cubestream publish` writes them),
 * read by a durable pull consumer with explicit acks. At start the stream is created or checked
 * and the consumer created or updated (ack wait, max ack pending, max deliver, and its filter
 * subject: the one admitted camera's, else every camera's). A frame is pulled only when `demand` has room, and each decoded frame
 * carries `ack` (`CubeFrame.ack`): its holder calls it once the frame's decision was delivered,
 * so a frame is never lost with a worker: unacknowledged, it comes back after `ackWaitSeconds`
 * (to this worker or another on the same durable). Undecodable messages and refused cameras go
 * to `onReject` and are terminated; a frame delivered more than `maxDeliver` times goes to
 * `onExhausted` and is terminated. A lost server puts the source in state `disconnected` and is
 * retried; the consumer resumes where it was. On unsubscribe the source stops pulling, waits
 * (at most the ack wait, 10 s at most) for the acks of the frames still in the pipeline, hands
 * back the others (`nak`: delivered again at once) and closes the connection.
 *
 * @example
 * ```ts
 * declare function decide(frame: import('../../src/core/frame.js').CubeFrame): Promise<void>; // e.g. the pipeline + publish
 * const source = jetstreamFrames({ servers: 'nats://127.0.0.1:4222', cameras: { cameraIds: ['cam1'] } });
 * source.frames.subscribe((frame) => void decide(frame).then(() => frame.ack?.()));
 * ```
 */
export function jetstreamFrames(options: JetStreamFramesOptions): CameraSource {
  const defaults = JETSTREAM_SOURCE_DEFAULTS;
  const prefix = assertNatsPrefix(options.subjectPrefix ?? defaults.subjectPrefix);
  const stream = options.stream ?? defaults.stream;
  const durable = options.durable ?? defaults.durable;
  const maxDeliver = options.maxDeliver ?? defaults.maxDeliver;
  const ackWaitMs = Math.round((options.ackWaitSeconds ?? defaults.ackWaitSeconds) * 1000);
  const maxAckPending = options.maxAckPending ?? defaults.maxAckPending;
  const pullExpiresMs = options.pullExpiresMs ?? DEFAULT_PULL_EXPIRES_MS;
  for (const [name, value] of [
    ['maxDeliver', maxDeliver],
    ['ackWaitSeconds', ackWaitMs],
    ['maxAckPending', maxAckPending],
    ['pullExpiresMs', pullExpiresMs],
  ] as const) {
    if (!(Number.isSafeInteger(value) && value > 0))
      throw new OptionError('jetstreamFrames', name, value, 'a positive integer');
  }
  const leased = options.leases;
  if (leased !== undefined && (options.cameras === undefined || options.cameras.acceptUnlisted === true)) {
    throw new OptionError(
      'jetstreamFrames',
      'leases',
      'set',
      'the cameras listed in cameraIds (acceptUnlistedCameras false): the leases share those',
    );
  }
  const subjects = requiredSubjects(prefix, options);
  const subject = consumedSubject(prefix, options);
  const target = (): string => redactUrl(serverList(options.servers));
  let puller: FramePuller | undefined;
  // Leased: one puller per camera this worker holds.
  const pullers = new Map<string, FramePuller>();
  const slots = { inFlight: 0 };
  return brokerFrameSource(
    {
      ...options,
      onReject: (rejected) => {
        puller?.rejected(rejected);
        for (const each of pullers.values()) each.rejected(rejected);
        options.onReject?.(rejected);
      },
    },
    async (feed) => {
      const connection: NodeConnectionOptions = {
        maxReconnectAttempts: -1,
        reconnectTimeWait: 500,
        name: 'cubestream-worker',
        ...options.connection,
        servers: options.servers,
      };
      if (options.credsFile !== undefined) {
        let creds: Buffer;
        try {
          creds = await readFile(options.credsFile);
        } catch (error) {
          throw new OptionError(
            'jetstreamFrames',
            'credsFile',
            options.credsFile,
            `a readable .creds file (${String(error)})`,
          );
        }
        connection.authenticator = credsAuthenticator(new Uint8Array(creds));
      }
      const retries = connection.reconnect !== false;
      const nc = await connectNats(connection, {
        isClosed: () => feed.closed || !retries,
        ...(options.reconnect === undefined ? {} : { backoff: options.reconnect }),
        onAttemptFailed: (error, attempt, retryInMs) =>
          feed.disconnected({
            error: new Error(`jetstream source: ${target()}: ${error.message}`, { cause: error }),
            attempt,
            retryInMs,
          }),
        fatal: (kind, detail, cause) =>
          new Error(
            `jetstream source: ${target()}: ${kind === 'tls' ? `TLS failed: ${detail}` : `refused the credentials: ${detail}`}`,
            { cause },
          ),
      });
      try {
        const jsm = await jetstreamManager(nc);
        await ensureFrameStream(jsm, `${prefix}.frames.>`, subjects, {
          name: stream,
          create: options.createStream ?? defaults.createStream,
        });
        const settings = { maxDeliver, ackWaitMs, pullExpiresMs };
        if (leased !== undefined) {
          watchConnection(nc, feed, connection.reconnectTimeWait ?? 500, 'jetstream source');
          const { state } = leased;
          const sync =
            state === undefined
              ? undefined
              : new CameraStateSync(
                  new CameraStateStore(nc, {
                    ...(state.bucket === undefined ? {} : { bucket: state.bucket }),
                    ...(leased.replicas === undefined ? {} : { replicas: leased.replicas }),
                  }),
                  state.keeper,
                  state,
                );
          const leases = new CameraLeases({
            nc,
            workerId: leased.workerId,
            cameras: options.cameras?.cameraIds ?? [],
            ...(leased.bucket === undefined ? {} : { bucket: leased.bucket }),
            ...(leased.ttlMs === undefined ? {} : { ttlMs: leased.ttlMs }),
            ...(leased.replicas === undefined ? {} : { replicas: leased.replicas }),
            onAcquired: async (camera, revision) => {
              const name = `${durable}-${camera}`;
              await resumeFrameConsumer(jsm, {
                stream,
                durable: name,
                subject: `${prefix}.frames.${camera}`,
                ackWaitMs,
                maxAckPending,
                maxDeliver: maxDeliver + 1,
              });
              const consumer = await jetstream(nc).consumers.get(stream, name);
              await sync?.acquire(camera, revision);
              const each = new FramePuller(nc, consumer, feed, options, settings, false, slots);
              pullers.set(camera, each);
              each.start();
              leased.onChange?.({ camera, event: 'acquired', workerId: leased.workerId });
            },
            onLost: async (camera, why) => {
              const each = pullers.get(camera);
              pullers.delete(camera);
              await each?.close();
              await sync?.release(camera, why);
              leased.onChange?.({ camera, event: why, workerId: leased.workerId });
            },
            ...(leased.onError === undefined ? {} : { onError: leased.onError }),
          });
          await sync?.prepare();
          feed.connected();
          await leases.start();
          return {
            close: async () => {
              await leases.close();
              await sync?.close();
              if (!nc.isClosed()) await nc.drain();
            },
          };
        }
        // One delivery more than maxDeliver: that one is dead-lettered and terminated here.
        await ensureFrameConsumer(jsm, {
          stream,
          durable,
          subject,
          ackWaitMs,
          maxAckPending,
          maxDeliver: maxDeliver + 1,
        });
        const consumer = await jetstream(nc).consumers.get(stream, durable);
        if (feed.closed) {
          await nc.close();
          return { close: async () => undefined };
        }
        watchConnection(nc, feed, connection.reconnectTimeWait ?? 500, 'jetstream source');
        puller = new FramePuller(nc, consumer, feed, options, settings);
        feed.connected();
        puller.start();
        return puller;
      } catch (error) {
        await nc.close();
        throw error;
      }
    },
  );
}
