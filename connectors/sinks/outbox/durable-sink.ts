/**
 * A decision sink made durable by an outbox journal: each decision is journaled before the wrapped
 * sink (MQTT, NATS) gets it, resolved when the broker acknowledges it ({@link SinkHooks.onDelivered})
 * or the sink gives up on it and counts it (`overflow`, `rejected`), and kept when the sink
 * closes with it still queued or the process dies. At the next start, `connect()` publishes every
 * decision kept, in the order they were accepted, before any new one, with the same
 * `decisionMsgId` (JetStream drops what it already stored; MQTT subscribers de-duplicate by it).
 */
import path from 'node:path';
import type { Decision } from '../../../src/core/decision.js';
import { asError } from '../../../src/core/errors.js';
import { componentLogger, createLogger, type Logger } from '../../../src/telemetry/logger.js';
import type { CubestreamMetrics } from '../../../src/telemetry/metrics.js';
import {
  InvalidCameraIdError,
  PublishRejectedError,
  SinkClosedError,
  SinkConnectTimeoutError,
} from '../errors.js';
import type { DecisionSink, DroppedMessage, PublishOutcome, SinkHooks, StatusUpdate } from '../sink.js';
import { OutboxJournal } from './journal.js';

/**
 * A publish that can never succeed for this decision (the broker refused it, or its camera id
 * cannot be a topic): no replay. Other failures (closed sink, no connection yet) keep it.
 */
function refusedForGood(error: unknown): boolean {
  return error instanceof PublishRejectedError || error instanceof InvalidCameraIdError;
}

/** The `sinks.outbox` settings: one journal per sink under `<dir>/<sink name>/`. */
export interface OutboxSettings {
  /** Root directory of the outbox; the sink journals in `<dir>/<sink name>/` (one process per directory). */
  readonly dir: string;
  /** Rotate a segment past this many bytes (default 4 MiB). */
  readonly segmentBytes?: number;
  /** Most bytes on disk per sink (default 256 MiB); past it the oldest pending are dropped and counted. */
  readonly maxBytes?: number;
  /** `fdatasync` each write (survives a power cut, not only a crash); default false. */
  readonly fsync?: boolean;
}

/** Metrics a durable sink and its wrapped sink update. */
export type DurableSinkMetrics = Pick<
  CubestreamMetrics,
  'publishErrors' | 'brokerConnected' | 'outboxPending' | 'outboxReplayed'
>;

/** Hooks of a durable sink: its logger and metrics, and `onError` for journal write failures. */
export interface DurableSinkHooks {
  readonly logger?: Logger;
  readonly metrics?: DurableSinkMetrics;
  readonly onError?: (error: Error) => void;
}

/** The journal of sink `sink` under `<outbox.dir>/<sink>/` (not opened yet). */
export function sinkJournal(
  outbox: OutboxSettings,
  sink: string,
  hooks: DurableSinkHooks = {},
): OutboxJournal {
  return new OutboxJournal({
    dir: path.join(outbox.dir, sink),
    sink,
    ...(outbox.segmentBytes === undefined ? {} : { segmentBytes: outbox.segmentBytes }),
    ...(outbox.maxBytes === undefined ? {} : { maxBytes: outbox.maxBytes }),
    ...(outbox.fsync === undefined ? {} : { fsync: outbox.fsync }),
    ...(hooks.logger === undefined ? {} : { logger: hooks.logger }),
    ...(hooks.metrics === undefined ? {} : { metrics: hooks.metrics }),
  });
}

/**
 * The hooks to build the wrapped sink with: a delivered decision, or one the sink gave up on and
 * counted (`overflow`, `rejected`), is resolved in `journal`, then `hooks` are called. A decision
 * dropped as `closed` (still queued at close) stays for replay. Without a journal: `hooks` as is.
 */
export function outboxHooks<H extends SinkHooks>(journal: OutboxJournal | undefined, hooks: H): H {
  if (journal === undefined) return hooks;
  return {
    ...hooks,
    onDelivered: (decision: Decision) => {
      journal.resolveDecision(decision, 'acked');
      hooks.onDelivered?.(decision);
    },
    onDrop: (dropped: DroppedMessage) => {
      if (dropped.decision !== undefined && dropped.reason !== 'closed')
        journal.resolveDecision(dropped.decision, dropped.reason);
      hooks.onDrop?.(dropped);
    },
  };
}

/**
 * Wraps a broker sink built with {@link outboxHooks} of the same journal.
 *
 * @example
 * ```ts
 * const journal = sinkJournal({ dir: '/var/lib/cubestream/outbox' }, 'mqtt', { metrics, logger });
 * import { MqttDecisionSink } from 'cubestream/connectors';
 * const mqtt = new MqttDecisionSink({
 *   ...outboxHooks(journal, { metrics, logger }), url: 'mqtt://127.0.0.1:1883', cameraIds: ['cam0'], modelVersion: 'v1',
 * });
 * const sink = new DurableDecisionSink(mqtt, journal, { metrics, logger });
 * await sink.connect();          // opens the journal, connects, replays what an earlier run left
 * await sink.publish(decision);  // journaled, then handed to MQTT
 * await sink.close();            // what is still queued stays in the outbox
 * ```
 */
export class DurableDecisionSink<S extends DecisionSink = DecisionSink> implements DecisionSink {
  /** The wrapped sink's name. */
  readonly name: string;
  private readonly log: Logger;
  private replayed = false;
  private closed = false;

  /**
   * @param inner - the wrapped sink, built with `outboxHooks(journal, …)` (status and dead letters
   *   go to it directly, not journaled)
   * @param journal - its journal (opened by `connect()`)
   * @param hooks - logger, metrics, `onError`
   */
  constructor(
    readonly inner: S,
    readonly journal: OutboxJournal,
    private readonly hooks: DurableSinkHooks = {},
  ) {
    this.name = inner.name;
    this.log = componentLogger(hooks.logger ?? createLogger(), 'sink', { sink: this.name });
    hooks.metrics?.outboxPending.set({ sink: this.name }, 0);
    hooks.metrics?.outboxReplayed.inc({ sink: this.name }, 0);
  }

  /** The wrapped sink's connection state. */
  get connected(): boolean {
    return this.inner.connected;
  }

  /** The wrapped sink's queued and in-flight messages. */
  get pending(): number {
    return this.inner.pending;
  }

  /**
   * Opens the journal (an unusable directory rejects with `OutboxError`), connects the wrapped
   * sink, then hands it every decision kept by an earlier run, oldest first: also after a connect
   * timeout (they wait in its queue), not after a permanent error (they stay on disk).
   */
  async connect(): Promise<void> {
    if (this.closed) throw new SinkClosedError(this.name);
    this.openJournal();
    try {
      await this.inner.connect();
    } catch (error) {
      if (error instanceof SinkConnectTimeoutError) this.replay();
      throw error;
    }
    this.replay();
  }

  /**
   * Journals the decision, then publishes it through the wrapped sink. If the journal cannot be
   * written (disk full), the error is logged and the decision still goes out, without the outbox.
   */
  publish(decision: Decision): Promise<PublishOutcome> {
    if (this.closed) return Promise.reject(new SinkClosedError(this.name));
    try {
      this.openJournal();
      this.replay();
    } catch (error) {
      return Promise.reject(error);
    }
    try {
      this.journal.append(decision);
    } catch (error) {
      const failure = asError(error);
      this.log.error(
        { err: failure, camera: decision.cameraId, frameId: decision.frameId },
        'decision not journaled in the outbox; published without it',
      );
      this.hooks.onError?.(failure);
    }
    return this.inner.publish(decision).catch((error: unknown) => {
      if (refusedForGood(error)) this.journal.resolveDecision(decision, 'rejected');
      throw error;
    });
  }

  /** Forwards to the wrapped sink, where it has a status. */
  async publishStatus(cameraId: string, update: StatusUpdate): Promise<void> {
    await this.inner.publishStatus?.(cameraId, update);
  }

  /** The wrapped sink's flush; what it times out on stays in the outbox. */
  flush(timeoutMs: number): Promise<void> {
    return this.inner.flush(timeoutMs);
  }

  /** Closes the wrapped sink, then the journal; logs how many decisions stay for the next start. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.inner.close();
    } finally {
      const kept = this.journal.close();
      if (kept > 0) {
        this.log.warn(
          { decisions: kept, dir: this.journal.dir },
          'decisions not delivered are kept in the outbox for the next start',
        );
      }
    }
  }

  private openJournal(): void {
    if (this.journal.isOpen) return;
    const report = this.journal.open();
    if (report.pending > 0 || report.torn > 0 || report.corrupt > 0) {
      this.log.info({ ...report, dir: this.journal.dir }, 'outbox read');
    }
  }

  /** Publishes what the journal kept from an earlier run, once, before any new decision. */
  private replay(): void {
    if (this.replayed) return;
    this.replayed = true;
    const decisions = this.journal.pendingDecisions();
    if (decisions.length === 0) return;
    this.log.info({ decisions: decisions.length }, 'replaying decisions kept in the outbox');
    this.hooks.metrics?.outboxReplayed.inc({ sink: this.name }, decisions.length);
    for (const decision of decisions) {
      this.inner.publish(decision).catch((error: unknown) => {
        if (refusedForGood(error)) this.journal.resolveDecision(decision, 'rejected');
        this.log.warn(
          { err: error, camera: decision.cameraId, frameId: decision.frameId },
          'replayed decision not published',
        );
      });
    }
  }
}
