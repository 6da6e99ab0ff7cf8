/**
 * The publish-side contract shared by every decision sink (MQTT, NATS, file), and the hooks
 * through which sinks report to metrics, logs and the caller.
 */
import type { Decision } from '../../src/core/decision.js';
import type { HealthCheck } from '../../src/telemetry/health.js';
import type { Logger } from '../../src/telemetry/logger.js';
import type { CubestreamMetrics } from '../../src/telemetry/metrics.js';

/**
 * What became of a published message:
 * - `acked`: the broker acknowledged it (MQTT PUBACK of QoS 1, JetStream PubAck, core NATS
 *   flush round-trip, or the file write completed);
 * - `queued`: the broker is unreachable; the message waits in the sink's bounded offline queue
 *   and is retried until acknowledged, dropped by overflow (counted), or the sink closes;
 * - `dropped`: the offline queue was full and the policy was `drop-newest` (counted).
 */
export type PublishOutcome = 'acked' | 'queued' | 'dropped';

/** Why a sink gave up on a message (each drop is counted in `publish_errors_total{sink}`). */
export type DropReason = 'overflow' | 'rejected' | 'closed';

/** A message a sink gave up on, reported through {@link SinkHooks.onDrop}. */
export interface DroppedMessage {
  /** Sink name (`mqtt`, `nats`, `file`, or the configured name). */
  readonly sink: string;
  readonly reason: DropReason;
  /** Topic, subject or file the message was for. */
  readonly destination: string;
  /** The decision, when the message was one (undefined for dead letters). */
  readonly decision?: Decision;
}

/** Which message to drop when a full offline queue receives one more. */
export type OverflowPolicy = 'drop-oldest' | 'drop-newest';

/** Reporting hooks every sink accepts; none is required, and no drop or error is ever silent. */
export interface SinkHooks {
  /** Updates `publish_errors_total{sink}` and `broker_connected{sink}`. */
  metrics?: Pick<CubestreamMetrics, 'publishErrors' | 'brokerConnected'>;
  /** Parent logger; the sink logs through a child bound to `{ component: 'sink', sink }`. Default: a root logger. */
  logger?: Logger;
  /** Called for each message the sink gives up on. */
  onDrop?: (dropped: DroppedMessage) => void;
  /**
   * Called once for each decision the broker acknowledged (MQTT PUBACK, JetStream PubAck, core
   * NATS flush, file write), also for one whose `publish()` resolved `queued` long before: the
   * only way to learn that a queued decision arrived. Not called for dead letters or status.
   */
  onDelivered?: (decision: Decision) => void;
  /** Called for background errors (failed publish attempts, connection errors). */
  onError?: (error: Error) => void;
}

/**
 * A destination for decisions.
 *
 * Lifecycle: `connect()` once, `publish()` per decision, `flush(t)` to wait for delivery, then
 * `close()`. `publish()` never blocks on an unreachable broker: it resolves `queued` and the
 * sink delivers later (at-least-once: a decision may arrive twice after a reconnect; JetStream
 * de-duplicates by `Nats-Msg-Id`).
 *
 * @example
 * ```ts
 * import { MqttDecisionSink } from 'cubestream/connectors';
 * const sink = new MqttDecisionSink({ url: 'mqtt://broker:1883', cameraIds: ['cam1'], modelVersion: 'v3' });
 * await sink.connect();
 * await sink.publish(decision); // 'acked' | 'queued' | 'dropped'
 * await sink.flush(5_000);
 * await sink.close();
 * ```
 */
export interface DecisionSink {
  /** Name used as the `sink` label of metrics and in logs. */
  readonly name: string;
  /** True while the sink can deliver right away (readiness). */
  readonly connected: boolean;
  /** Messages queued or in flight, not yet acknowledged. */
  readonly pending: number;
  /**
   * Starts connecting and resolves on the first successful connection; rejects on a timeout
   * (the sink keeps trying in the background) or a permanent error (bad credentials, stream config).
   */
  connect(): Promise<void>;
  /** Publishes one decision; see {@link PublishOutcome}. Rejects only when closed or on a permanent broker rejection. */
  publish(decision: Decision): Promise<PublishOutcome>;
  /**
   * Updates the per-camera status where the sink has one: the current threshold, and `state`
   * `offline` while the camera's source is lost (`online` again once it is back).
   */
  publishStatus?(cameraId: string, update: StatusUpdate): Promise<void>;
  /** Resolves when nothing is pending; rejects with `SinkFlushTimeoutError` after `timeoutMs`. */
  flush(timeoutMs: number): Promise<void>;
  /** Marks the service offline where supported, disconnects; what is still queued is dropped and counted. */
  close(): Promise<void>;
}

/** What {@link DecisionSink.publishStatus} changes; fields left out keep their value. */
export interface StatusUpdate {
  /** The threshold τ the camera's pixels are judged against now. */
  readonly threshold?: number;
  /** `offline` while the camera's source is lost; the status starts `online`. */
  readonly state?: 'online' | 'offline';
  /**
   * How far the Deep SVDD centre has drifted from the bundle's (the centre tracker's drift), for
   * sinks that show it (the OPC UA sink's `CenterDrift` variable); others ignore it.
   */
  readonly centerDrift?: number;
  /**
   * The model version the camera's blocks are decided with from now on (after a hot model
   * reload): the retained MQTT status, the OPC UA and Sparkplug `ModelVersion` take it.
   */
  readonly modelVersion?: string;
}

/** The readiness check of a sink: `{ name: 'sink:<name>', ok: connected }`. */
export function sinkHealthCheck(sink: Pick<DecisionSink, 'name' | 'connected' | 'pending'>): HealthCheck {
  return {
    name: `sink:${sink.name}`,
    ok: sink.connected,
    detail: sink.connected ? `${sink.pending} pending` : `disconnected, ${sink.pending} pending`,
  };
}
