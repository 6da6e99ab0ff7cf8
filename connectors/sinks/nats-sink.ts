/**
 * Publishes decisions to NATS (docs/wire-format.md §2) on `cubestream.decisions.<cameraId>`: JetStream by
 * default (`Nats-Msg-Id` = `<cameraId>:<capturedAt>:<frameId>:<rowOffset>`, so retries never
 * store a decision twice within the stream's duplicate window), or plain core NATS. Dead letters
 * go to `cubestream.deadletter.<cameraId>` with a core publish (add a stream on
 * `cubestream.deadletter.>` to keep them).
 *
 * While the server is unreachable, decisions wait in a bounded in-memory queue and are retried
 * with capped exponential backoff once the client has reconnected (it reconnects forever).
 */

import { readFile } from 'node:fs/promises';
import { JetStreamApiError, type JetStreamClient, jetstream, jetstreamManager } from '@nats-io/jetstream';
import {
  credsAuthenticator,
  InvalidSubjectError,
  type NatsConnection,
  type NodeConnectionOptions,
  PermissionViolationError,
} from '@nats-io/transport-node';
import { UNKNOWN_CAMERA } from '../../src/core/camera-id.js';
import { type Decision, encodeDecision } from '../../src/core/decision.js';
import { type EjectCommand, encodeEject } from '../../src/core/eject.js';
import { asError } from '../../src/core/errors.js';
import { OptionError } from '../../src/core/options.js';
import { redactUrl } from '../../src/telemetry/redact.js';
import { type BackoffOptions, backoffDelay } from '../shared/backoff.js';
import { connectNats } from '../shared/nats-connect.js';
import { checkTlsFiles, type TlsFileOptions } from '../shared/tls-files.js';
import { withTimeout } from '../shared/with-timeout.js';
import { type DeadLetter, type DeadLetterTarget, encodeDeadLetter } from './dead-letter.js';
import {
  PublishRejectedError,
  SinkAuthError,
  SinkClosedError,
  SinkConnectTimeoutError,
  SinkTlsError,
} from './errors.js';
import { NATS_SINK_DEFAULTS } from './nats-sink-options.js';
import { type DecisionStreamConfig, ensureDecisionStream } from './nats-stream.js';
import { OfflineQueue } from './offline-queue.js';
import { OutgoingMessage } from './outgoing-message.js';
import { Waker, waitUntilIdle } from './retry.js';
import type { DecisionSink, OverflowPolicy, PublishOutcome, SinkHooks } from './sink.js';
import { assertNonNegative, assertPositiveInteger, sinkComponent } from './sink-options.js';
import { SinkReporter } from './sink-reporter.js';
import { assertNatsPrefix, decisionMsgId, natsSubject } from './topics.js';

/** TLS settings (checked in `connect()`; the NATS client reads the files on every connection). */
export type NatsTlsOptions = TlsFileOptions;

/** Options of {@link NatsDecisionSink}; the defaults are {@link NATS_SINK_DEFAULTS}'s. */
export interface NatsSinkOptions extends SinkHooks {
  /** Server URL(s): `nats://host:4222`, or several for a cluster. */
  servers: string | readonly string[];
  /** `jetstream` (default): stored, de-duplicated, acknowledged; `core`: plain publish + flush. */
  mode?: 'jetstream' | 'core';
  /** First subject token; default `cubestream`. */
  subjectPrefix?: string;
  /** Stream created or checked in `connect()` (JetStream mode). */
  stream?: DecisionStreamConfig;
  /** Sink name (metric label); default `nats`. */
  name?: string;
  /** Connection name shown by the server; default `cubestream-sink`. */
  connectionName?: string;
  /** Wait for a JetStream PubAck, ms; default 5 000. */
  publishTimeoutMs?: number;
  /** Offline queue capacity; default 10 000. */
  offlineQueueSize?: number;
  /** Which message a full queue drops; default `drop-oldest`. */
  overflow?: OverflowPolicy;
  /** Most messages sent at once when draining the queue; default 64. */
  maxInFlight?: number;
  /** Backoff between failed retries of the queue; default 200 ms doubling up to 10 s. */
  retry?: BackoffOptions;
  /** Wait between reconnect attempts of the NATS client, ms; default 1 000. */
  reconnectTimeWaitMs?: number;
  /** How long `connect()` waits for the first connection and stream check; 0 = do not wait; default 10 000. */
  connectTimeoutMs?: number;
  user?: string;
  pass?: string;
  token?: string;
  /** A `.creds` file (JWT + nkey seed). */
  credsFile?: string;
  tls?: NatsTlsOptions;
}

/** Errors after which retrying the same message cannot succeed. */
function isPermanent(error: unknown): boolean {
  if (error instanceof JetStreamApiError) return error.status !== 503;
  return error instanceof PermissionViolationError || error instanceof InvalidSubjectError;
}

/**
 * The NATS decision sink.
 *
 * @example
 * ```ts
 * const sink = new NatsDecisionSink({ servers: 'nats://127.0.0.1:4222', stream: { duplicateWindowMs: 300_000 } });
 * await sink.connect();               // connects, creates/checks the stream
 * await sink.publish(decision);       // 'acked' on the PubAck, 'queued' while the server is down
 * await sink.flush(10_000);
 * await sink.close();
 * ```
 */
export class NatsDecisionSink implements DecisionSink, DeadLetterTarget {
  /** Metric label and log name. */
  readonly name: string;
  private readonly options: NatsSinkOptions;
  private readonly prefix: string;
  private readonly mode: 'jetstream' | 'core';
  private readonly reporter: SinkReporter;
  private readonly queue: OfflineQueue<OutgoingMessage>;
  private readonly waker = new Waker();
  private nc: NatsConnection | undefined;
  private js: JetStreamClient | undefined;
  private setup: Promise<void> | undefined;
  private online = false;
  private fatal: Error | undefined;
  private inFlight = 0;
  private pumping = false;
  private closed = false;

  /** @param options - see {@link NatsSinkOptions}; validated here */
  constructor(options: NatsSinkOptions) {
    this.name = options.name ?? 'nats';
    this.prefix = assertNatsPrefix(options.subjectPrefix ?? NATS_SINK_DEFAULTS.subjectPrefix);
    this.mode = options.mode ?? NATS_SINK_DEFAULTS.mode;
    if (this.mode !== 'jetstream' && this.mode !== 'core') {
      throw new OptionError(sinkComponent(this.name), 'mode', options.mode, "'jetstream' or 'core'");
    }
    const servers = typeof options.servers === 'string' ? [options.servers] : options.servers;
    if (servers.length === 0)
      throw new OptionError(sinkComponent(this.name), 'servers', servers, 'at least one URL');
    assertPositiveInteger(this.name, 'offlineQueueSize', options.offlineQueueSize);
    assertPositiveInteger(this.name, 'maxInFlight', options.maxInFlight);
    assertNonNegative(this.name, 'publishTimeoutMs', options.publishTimeoutMs);
    assertNonNegative(this.name, 'connectTimeoutMs', options.connectTimeoutMs);
    const auth = [options.user !== undefined, options.token !== undefined, options.credsFile !== undefined];
    if (auth.filter(Boolean).length > 1) {
      throw new OptionError(
        sinkComponent(this.name),
        'user/token/credsFile',
        'several',
        'at most one way to authenticate',
      );
    }
    this.options = options;
    this.queue = new OfflineQueue(
      options.offlineQueueSize ?? NATS_SINK_DEFAULTS.offlineQueue.size,
      options.overflow ?? NATS_SINK_DEFAULTS.offlineQueue.overflow,
    );
    this.reporter = new SinkReporter(this.name, options, { servers: redactUrl(servers.join(',')) });
    this.reporter.connected(false);
  }

  /** True while connected (and, in JetStream mode, the stream is checked). */
  get connected(): boolean {
    return this.online && !this.closed;
  }

  /** Messages queued or awaiting their acknowledgement. */
  get pending(): number {
    return this.queue.length + this.inFlight;
  }

  /** Subject of a camera's decisions: `<prefix>.decisions.<cameraId>`. */
  subjectFor(cameraId: string): string {
    return natsSubject(this.prefix, 'decisions', cameraId);
  }

  /**
   * Connects (retrying until the server answers), then in JetStream mode creates or checks the
   * stream. Rejects with {@link SinkConnectTimeoutError} after `connectTimeoutMs` (the sink
   * keeps trying in the background), or with the setup error (`StreamConfigError`,
   * authorization), after which the sink is unusable.
   */
  async connect(): Promise<void> {
    if (this.closed) throw new SinkClosedError(this.name);
    this.setup ??= this.start().catch((error: unknown) => {
      this.fatal = asError(error);
      if (!this.closed) this.reporter.error(this.fatal, { during: 'connect' });
      for (const message of this.queue.drain()) this.reporter.dropped(message, 'rejected', this.fatal);
      throw this.fatal;
    });
    const timeoutMs = this.options.connectTimeoutMs ?? NATS_SINK_DEFAULTS.connectTimeoutMs;
    if (timeoutMs === 0) {
      this.setup.catch(() => undefined);
      return;
    }
    await withTimeout(
      this.setup,
      timeoutMs,
      () => new SinkConnectTimeoutError(this.name, this.serverList(), timeoutMs),
    );
  }

  /** Publishes a decision (JetStream with `msgID`, or core); see {@link PublishOutcome}. */
  publish(decision: Decision): Promise<PublishOutcome> {
    try {
      const subject = this.subjectFor(decision.cameraId);
      const msgId = this.mode === 'jetstream' ? decisionMsgId(decision) : undefined;
      return this.submit(new OutgoingMessage(subject, encodeDecision(decision), decision, msgId));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Publishes a dead letter on `<prefix>.deadletter.<cameraId>` (core publish + flush). */
  publishDeadLetter(letter: DeadLetter): Promise<PublishOutcome> {
    try {
      const subject = natsSubject(this.prefix, 'deadletter', letter.cameraId ?? UNKNOWN_CAMERA);
      return this.submit(new OutgoingMessage(subject, encodeDeadLetter(letter)));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Publishes an eject command on `<prefix>.eject.<cameraId>` (core publish + flush). */
  publishEject(eject: EjectCommand): Promise<PublishOutcome> {
    try {
      const subject = natsSubject(this.prefix, 'eject', eject.cameraId);
      return this.submit(new OutgoingMessage(subject, encodeEject(eject)));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Waits until nothing is queued or awaiting its acknowledgement. */
  flush(timeoutMs: number): Promise<void> {
    return waitUntilIdle(this.name, () => this.pending, timeoutMs);
  }

  /** Gives in-flight publishes up to 2 s, drops (and counts) what is still queued, closes the connection. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.waker.wake();
    if (this.online) await waitUntilIdle(this.name, () => this.inFlight, 2_000).catch(() => undefined);
    for (const message of this.queue.drain()) this.reporter.dropped(message, 'closed');
    const nc = this.nc;
    this.online = false;
    this.reporter.connected(false);
    if (nc !== undefined && !nc.isClosed()) await nc.close();
  }

  private serverList(): string {
    const servers = this.options.servers;
    return redactUrl(typeof servers === 'string' ? servers : servers.join(','));
  }

  private async connectionOptions(): Promise<NodeConnectionOptions> {
    const o = this.options;
    const servers = typeof o.servers === 'string' ? o.servers : [...o.servers];
    const options: NodeConnectionOptions = {
      servers,
      name: o.connectionName ?? 'cubestream-sink',
      maxReconnectAttempts: -1,
      reconnectTimeWait: o.reconnectTimeWaitMs ?? NATS_SINK_DEFAULTS.reconnectTimeWaitMs,
      waitOnFirstConnect: true,
    };
    if (o.user !== undefined) options.user = o.user;
    if (o.pass !== undefined) options.pass = o.pass;
    if (o.token !== undefined) options.token = o.token;
    if (o.credsFile !== undefined) {
      let creds: Buffer;
      try {
        creds = await readFile(o.credsFile);
      } catch (error) {
        throw new OptionError(
          sinkComponent(this.name),
          'credsFile',
          o.credsFile,
          `a readable .creds file (${String(error)})`,
        );
      }
      options.authenticator = credsAuthenticator(new Uint8Array(creds));
    }
    if (o.tls !== undefined) {
      checkTlsFiles(o.tls, `${this.name} sink`);
      options.tls = {
        ...(o.tls.caFile === undefined ? {} : { caFile: o.tls.caFile }),
        ...(o.tls.certFile === undefined ? {} : { certFile: o.tls.certFile }),
        ...(o.tls.keyFile === undefined ? {} : { keyFile: o.tls.keyFile }),
        rejectUnauthorized: o.tls.rejectUnauthorized ?? true,
      };
    }
    return options;
  }

  /** The first connection (retried while the server is down; TLS and credentials failures are final). */
  private async firstConnection(): Promise<NatsConnection> {
    const retryMs = this.options.reconnectTimeWaitMs ?? NATS_SINK_DEFAULTS.reconnectTimeWaitMs;
    return connectNats(await this.connectionOptions(), {
      isClosed: () => this.closed,
      wait: (ms) => this.waker.wait(ms),
      backoff: { initialMs: retryMs, maxMs: Math.max(retryMs, 5_000) },
      onAttemptFailed: (error, attempt, retryInMs) => {
        const level = attempt === 1 ? 'warn' : 'debug';
        this.reporter.log[level](
          { err: error, attempt, retryInMs },
          'nats server not reachable yet; retrying',
        );
      },
      fatal: (kind, detail, cause) =>
        kind === 'tls'
          ? new SinkTlsError(this.name, this.serverList(), detail, { cause })
          : new SinkAuthError(this.name, this.serverList(), detail, { cause }),
    });
  }

  private async start(): Promise<void> {
    const nc = await this.firstConnection();
    if (this.closed) {
      await nc.close();
      return;
    }
    this.nc = nc;
    if (this.mode === 'jetstream') {
      const jsm = await jetstreamManager(nc);
      const info = await ensureDecisionStream(jsm, `${this.prefix}.decisions.>`, this.options.stream);
      this.reporter.log.info(
        { stream: info.config.name, subjects: info.config.subjects },
        'jetstream stream ready',
      );
      this.js = jetstream(nc, {
        timeout: this.options.publishTimeoutMs ?? NATS_SINK_DEFAULTS.publishTimeoutMs,
      });
    }
    this.watchStatus(nc);
    this.setOnline(true);
    this.reporter.log.info({ server: nc.getServer(), mode: this.mode }, 'nats connected');
  }

  private watchStatus(nc: NatsConnection): void {
    void (async () => {
      for await (const status of nc.status()) {
        if (status.type === 'disconnect') {
          this.reporter.log.warn({ server: status.server }, 'nats connection lost');
          this.setOnline(false);
        } else if (status.type === 'reconnect') {
          this.reporter.log.info({ server: status.server }, 'nats reconnected');
          this.setOnline(true);
        }
      }
    })().catch((error: unknown) => this.reporter.error(asError(error), { during: 'status' }));
  }

  private setOnline(online: boolean): void {
    if (this.closed) return;
    this.online = online;
    this.reporter.connected(online);
    if (online) {
      this.waker.wake();
      void this.pump();
    }
  }

  private submit(message: OutgoingMessage): Promise<PublishOutcome> {
    if (this.closed) return Promise.reject(new SinkClosedError(this.name));
    if (this.fatal !== undefined) return Promise.reject(this.fatal);
    if (this.online && this.queue.length === 0 && !this.pumping) {
      this.transmit(message).then(
        () => this.reporter.delivered(message),
        (error: unknown) => {
          if (this.failed([message], [error]) > 0) void this.pump();
        },
      );
    } else {
      this.enqueue(message);
      void this.pump();
    }
    return message.promise;
  }

  private enqueue(message: OutgoingMessage): void {
    const dropped = this.queue.push(message);
    if (dropped !== message) message.settle('queued');
    if (dropped !== undefined) this.reporter.dropped(dropped, 'overflow');
  }

  /** Handles failed sends: permanent errors drop the message, others go back to the queue front. Returns how many were requeued. */
  private failed(messages: readonly OutgoingMessage[], errors: readonly unknown[]): number {
    const retry: OutgoingMessage[] = [];
    messages.forEach((message, index) => {
      const error = asError(errors[index]);
      if (this.closed) {
        this.reporter.dropped(message, 'closed', error);
      } else if (isPermanent(error)) {
        const rejected = new PublishRejectedError(this.name, message.destination, error.message, {
          cause: error,
        });
        message.fail(rejected);
        this.reporter.dropped(message, 'rejected', rejected);
      } else {
        this.reporter.attemptFailed(error, message.destination);
        message.settle('queued');
        retry.push(message);
      }
    });
    for (const dropped of this.queue.requeue(retry)) this.reporter.dropped(dropped, 'overflow');
    return retry.length;
  }

  private async transmit(message: OutgoingMessage): Promise<void> {
    const nc = this.nc;
    if (nc === undefined) throw new Error('not connected');
    this.inFlight += 1;
    try {
      if (this.js !== undefined && message.msgId !== undefined) {
        const ack = await this.js.publish(message.destination, message.payload, { msgID: message.msgId });
        if (ack.duplicate)
          this.reporter.log.debug({ msgId: message.msgId, seq: ack.seq }, 'duplicate not stored again');
      } else {
        nc.publish(message.destination, message.payload);
        await nc.flush();
      }
    } finally {
      this.inFlight -= 1;
    }
  }

  /** Drains the queue in batches of `maxInFlight` while online, backing off after failures. */
  private async pump(): Promise<void> {
    if (this.pumping || this.closed) return;
    this.pumping = true;
    let failures = 0;
    try {
      while (!this.closed && this.queue.length > 0) {
        if (!this.online) {
          await this.waker.wait(1_000);
          continue;
        }
        const batch = this.queue.take(this.options.maxInFlight ?? 64);
        const results = await Promise.allSettled(batch.map((message) => this.transmit(message)));
        const failedMessages: OutgoingMessage[] = [];
        const errors: unknown[] = [];
        results.forEach((result, index) => {
          const message = batch[index];
          if (message === undefined) return;
          if (result.status === 'fulfilled') this.reporter.delivered(message);
          else {
            failedMessages.push(message);
            errors.push(result.reason);
          }
        });
        if (this.failed(failedMessages, errors) > 0) {
          await this.waker.wait(backoffDelay(failures, this.options.retry ?? NATS_SINK_DEFAULTS.retry));
          failures += 1;
        } else {
          failures = 0;
        }
      }
    } finally {
      this.pumping = false;
    }
  }
}
