/**
 * Publishes decisions as a Sparkplug B 3.0 edge node (docs/sparkplug.md): one device per camera,
 * a DDATA per decision, a `Heartbeat` DDATA per device every second, eject commands as `Eject/…`
 * metrics; the session itself (will, bdSeq, births, primary host, rebirth) is
 * {@link EdgeNodeSession}'s.
 *
 * Sparkplug is state-based: while the node is not born (broker unreachable, primary host
 * offline) decisions are **not** queued, since stale DDATA would reach the host after the next
 * NBIRTH. Each one is dropped and reported (`onDrop`, reason `closed`; `publish_errors_total`),
 * while its values still update the device; the DBIRTHs of the next birth carry them.
 */

import { isCameraId } from '../../../src/core/camera-id.js';
import type { Decision } from '../../../src/core/decision.js';
import { verdictOf } from '../../../src/core/decision.js';
import type { EjectCommand } from '../../../src/core/eject.js';
import { redactUrl } from '../../../src/telemetry/redact.js';
import { readTlsFiles, type TlsMaterial } from '../../shared/tls-files.js';
import { withTimeout } from '../../shared/with-timeout.js';
import { InvalidCameraIdError, SinkClosedError, SinkConnectTimeoutError } from '../errors.js';
import { waitUntilIdle } from '../retry.js';
import type { DecisionSink, DropReason, PublishOutcome, SinkHooks, StatusUpdate } from '../sink.js';
import { SinkReporter } from '../sink-reporter.js';
import { DeviceTable, type SparkplugDevice } from './device-table.js';
import { EdgeNodeSession } from './edge-node-session.js';
import type { DeviceMetricName } from './metrics.js';
import {
  parseSparkplugConfig,
  type SparkplugSinkConfig,
  type SparkplugSinkConfigInput,
} from './sparkplug-sink-options.js';
import { deviceTopic } from './topics.js';

/** Options of {@link SparkplugDecisionSink}: the configuration, the reporting hooks, a name and the model version. */
export type SparkplugSinkOptions = SparkplugSinkConfigInput &
  SinkHooks & {
    /** Sink name (metric label); default `sparkplug`. */
    name?: string;
    /** `ModelVersion` of devices born before their first decision; default unset (null). */
    modelVersion?: string;
  };

/** What an eject carries to Sparkplug (see {@link SparkplugDecisionSink.publishEject}). */
export type SparkplugEject = Pick<EjectCommand, 'frameId' | 'blobId' | 'valves' | 'fireAt'>;

/** Counters of what the sink did not send. */
export interface SparkplugSinkStats {
  /** Decisions and ejects dropped because the node was not born (reason `closed`). */
  readonly droppedNotBorn: number;
  /** Decisions dropped because `maxCameras` devices exist already (reason `overflow`). */
  readonly droppedTooManyCameras: number;
  /** Decisions dropped for a camera id not usable as a device id (reason `rejected`). */
  readonly droppedBadCamera: number;
}

/** The metrics a decision updates (its DDATA; `ModelVersion` only when it changed). */
const DECISION_METRICS: readonly DeviceMetricName[] = [
  'Verdict',
  'Anomalous',
  'AnomalousPixels',
  'FrameId',
  'Threshold',
  'BlobCount',
  'MaxScore',
  'LastDecisionTime',
];

/** The metrics of an eject command. */
const EJECT_METRICS: readonly DeviceMetricName[] = [
  'Eject/FrameId',
  'Eject/BlobId',
  'Eject/Valves',
  'Eject/FireAt',
  'Eject/Count',
];

/** `Heartbeat` and `Eject/Count` are UInt32: they wrap. */
const UINT32_MODULO = 2 ** 32;

/** Reads `centerDrift` from a status update when the caller's `StatusUpdate` has it. */
function centerDriftOf(update: StatusUpdate): number | undefined {
  const drift: unknown = (update as { readonly centerDrift?: unknown }).centerDrift;
  return typeof drift === 'number' && Number.isFinite(drift) ? drift : undefined;
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/**
 * The Sparkplug B edge-node decision sink.
 *
 * @example
 * ```ts
 * const sink = new SparkplugDecisionSink({
 *   url: 'mqtt://127.0.0.1:1883', groupId: 'hsi', edgeNodeId: 'line1', primaryHostId: 'scada',
 *   cameraIds: ['cam0'], bdSeqFile: '/var/lib/cubestream/bdseq', metrics, logger,
 * });
 * await sink.connect();                                  // NBIRTH + DBIRTH(cam0) once the host is online
 * await sink.publish(decision);                          // DDATA: 'acked', or 'dropped' while not born
 * await sink.publishStatus('cam0', { threshold: 0.42 }); // DDATA Threshold
 * await sink.publishEject('cam0', { frameId: 42, blobId: '42:0:0', valves: [3, 4], fireAt: Date.now() + 80 });
 * await sink.close();                                    // NDEATH, DISCONNECT
 * ```
 */
export class SparkplugDecisionSink implements DecisionSink {
  /** Metric label and log name. */
  readonly name: string;
  private readonly config: SparkplugSinkConfig;
  private readonly hooks: SinkHooks;
  private readonly reporter: SinkReporter;
  private readonly devices: DeviceTable;
  private modelVersion: string | undefined;
  private session: EdgeNodeSession | undefined;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private heartbeat = 0;
  private closed = false;
  private notBornSinceBirth = 0;
  private readonly refusedCameras = new Set<string>();
  private stats = { droppedNotBorn: 0, droppedTooManyCameras: 0, droppedBadCamera: 0 };

  /**
   * @param options - see {@link SparkplugSinkOptions}; validated here
   * @throws `OptionError` naming the first setting at fault (e.g. a group id with `/`)
   */
  constructor(options: SparkplugSinkOptions) {
    const { metrics, logger, onDrop, onDelivered, onError, name, modelVersion, ...config } = options;
    this.name = name ?? 'sparkplug';
    this.config = parseSparkplugConfig(config, this.name);
    this.hooks = { metrics, logger, onDrop, onDelivered, onError };
    this.modelVersion = modelVersion;
    this.reporter = new SinkReporter(this.name, this.hooks, {
      broker: redactUrl(this.config.url),
      groupId: this.config.groupId,
      edgeNodeId: this.config.edgeNodeId,
    });
    this.reporter.connected(false);
    this.devices = new DeviceTable(this.config.maxCameras);
    for (const cameraId of this.config.cameraIds) this.device(cameraId);
  }

  /** True while born: decisions go out as DDATA right away. */
  get connected(): boolean {
    return !this.closed && this.session?.born === true;
  }

  /** Messages handed to the MQTT client and not yet written. */
  get pending(): number {
    return this.session?.pending ?? 0;
  }

  /** bdSeq of the current MQTT session (its NDEATH will and NBIRTHs carry it). */
  get bdSeq(): number {
    return this.session?.currentBdSeq ?? 0;
  }

  /** What was dropped so far, by cause. */
  get dropped(): SparkplugSinkStats {
    return { ...this.stats };
  }

  /**
   * Connects and resolves at the first NBIRTH (after the primary host's STATE online, when one
   * is configured). On timeout it rejects with `SinkConnectTimeoutError` and keeps trying in the
   * background; refused credentials or TLS reject with `SinkAuthError` / `SinkTlsError`.
   */
  async connect(): Promise<void> {
    if (this.closed) throw new SinkClosedError(this.name);
    if (this.session === undefined) {
      const tls = this.loadTls();
      this.session = new EdgeNodeSession(this.config, this.devices, this.reporter, tls, () => this.onBorn());
      this.session.start();
      this.heartbeatTimer = setInterval(() => this.beat(), this.config.heartbeatMs);
      this.heartbeatTimer.unref();
    }
    const timeoutMs = this.config.connectTimeoutMs;
    if (timeoutMs === 0) return;
    await withTimeout(
      this.session.whenBorn(),
      timeoutMs,
      () => new SinkConnectTimeoutError(this.name, this.target(), timeoutMs),
    );
  }

  /**
   * Publishes a decision as a DDATA of its camera's device (after the device's DBIRTH when the
   * camera is new). Resolves `acked` once written (QoS 0), `dropped` while not born (counted,
   * reason `closed`), for a camera beyond `maxCameras` (`overflow`) or an unusable camera id
   * (`rejected`). Rejects only when closed.
   */
  publish(decision: Decision): Promise<PublishOutcome> {
    if (this.closed) return Promise.reject(new SinkClosedError(this.name));
    const { cameraId } = decision;
    if (!isCameraId(cameraId)) {
      this.hooks.onError?.(new InvalidCameraIdError(cameraId));
      return Promise.resolve(this.drop('rejected', cameraId, decision));
    }
    const device = this.device(cameraId);
    if (device === undefined) return Promise.resolve(this.drop('overflow', cameraId, decision));
    const session = this.session;
    const born = session?.born === true;
    // A new device's DBIRTH carries the values before this decision; its DDATA follows.
    session?.birthDeviceIfNew(device);
    const names = this.applyDecision(device, decision);
    if (!born || session === undefined) return Promise.resolve(this.drop('closed', cameraId, decision));
    return session.publishDeviceData(device, names).then((outcome) => {
      if (outcome === 'acked') this.hooks.onDelivered?.(decision);
      else this.drop('closed', cameraId, decision);
      return outcome;
    });
  }

  /**
   * Updates a camera's `Threshold`, `Status` (`online`/`offline`) and, when the update carries
   * them, `CenterDrift` and `ModelVersion`, as a DDATA when born; otherwise the next DBIRTH carries them.
   */
  async publishStatus(cameraId: string, update: StatusUpdate): Promise<void> {
    if (this.closed) throw new SinkClosedError(this.name);
    const device = this.device(cameraId);
    if (device === undefined) {
      this.refuseCamera(cameraId);
      return;
    }
    const now = Date.now();
    const names: DeviceMetricName[] = [];
    if (update.threshold !== undefined) {
      device.set('Threshold', update.threshold, now);
      names.push('Threshold');
    }
    if (update.state !== undefined) {
      device.set('Status', update.state, now);
      names.push('Status');
    }
    if (update.modelVersion !== undefined) this.modelVersion = update.modelVersion;
    if (update.modelVersion !== undefined && device.get('ModelVersion').value !== update.modelVersion) {
      device.set('ModelVersion', update.modelVersion, now);
      names.push('ModelVersion');
    }
    const drift = centerDriftOf(update);
    if (drift !== undefined) {
      device.set('CenterDrift', drift, now);
      names.push('CenterDrift');
    }
    if (names.length > 0 && this.session?.born === true) await this.session.publishDeviceData(device, names);
  }

  /**
   * Publishes an eject command as a DDATA of the camera's `Eject/FrameId`, `Eject/BlobId`,
   * `Eject/Valves` (comma-separated), `Eject/FireAt` and `Eject/Count` (+1 per command: a PLC
   * acts when it changes). Resolves `dropped` (counted, reason `closed`) while not born: an eject
   * is not worth sending late.
   *
   * @throws `TypeError` for a command with a frame or valve that is not an integer >= 0, an empty blob id, or
   *   a negative or non-finite fireAt (a fractional one is rounded)
   */
  async publishEject(cameraId: string, eject: SparkplugEject): Promise<PublishOutcome> {
    if (this.closed) throw new SinkClosedError(this.name);
    if (
      !isCount(eject.frameId) ||
      !(typeof eject.blobId === 'string' && eject.blobId.length > 0 && eject.blobId.length <= 64) ||
      !(Number.isFinite(eject.fireAt) && eject.fireAt >= 0) ||
      !eject.valves.every(isCount)
    ) {
      throw new TypeError(
        `eject for ${cameraId}: frameId and valves must be integers >= 0, blobId 1-64 characters, fireAt >= 0`,
      );
    }
    if (!isCameraId(cameraId)) return this.drop('rejected', cameraId);
    const device = this.device(cameraId);
    if (device === undefined) return this.drop('overflow', cameraId);
    const now = Date.now();
    const count = device.get('Eject/Count').value;
    device.set('Eject/FrameId', eject.frameId, now);
    device.set('Eject/BlobId', eject.blobId, now);
    device.set('Eject/Valves', eject.valves.join(','), now);
    device.set('Eject/FireAt', Math.round(eject.fireAt), now);
    device.set('Eject/Count', ((typeof count === 'number' ? count : 0) + 1) % UINT32_MODULO, now);
    const session = this.session;
    if (session?.born !== true) return this.drop('closed', cameraId);
    const outcome = await session.publishDeviceData(device, EJECT_METRICS);
    return outcome === 'acked' ? outcome : this.drop('closed', cameraId);
  }

  /** Waits until every message handed to the MQTT client was written. */
  flush(timeoutMs: number): Promise<void> {
    return waitUntilIdle(this.name, () => this.pending, timeoutMs);
  }

  /** Publishes NDEATH (bdSeq of the session), disconnects; later calls reject with `SinkClosedError`. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.heartbeatTimer);
    await this.session?.stop();
    this.reporter.connected(false);
  }

  /** The device of a camera (added when new, with the configured model version); undefined when full. */
  private device(cameraId: string): SparkplugDevice | undefined {
    const known = this.devices.get(cameraId);
    if (known !== undefined) return known;
    const now = Date.now();
    const device = this.devices.getOrAdd(cameraId, now);
    if (device === undefined) return undefined;
    if (this.modelVersion !== undefined) device.set('ModelVersion', this.modelVersion, now);
    device.set('Heartbeat', this.heartbeat, now);
    return device;
  }

  /** Sets a device's values from a decision; returns the metrics of its DDATA. */
  private applyDecision(device: SparkplugDevice, d: Decision): DeviceMetricName[] {
    const at = d.capturedAt;
    device.set('Verdict', verdictOf(d), at);
    device.set('Anomalous', d.anomalous, at);
    device.set('AnomalousPixels', d.anomalousPixels, at);
    device.set('FrameId', d.frameId, at);
    device.set('Threshold', d.threshold, at);
    device.set('BlobCount', d.blobs.length, at);
    device.set('MaxScore', d.maxScore, at);
    device.set('LastDecisionTime', d.decidedAt, at);
    if (device.get('ModelVersion').value === d.modelVersion) return [...DECISION_METRICS];
    device.set('ModelVersion', d.modelVersion, at);
    return [...DECISION_METRICS, 'ModelVersion'];
  }

  /** Every `heartbeatMs`: Heartbeat +1 on every device, a DDATA of it per device when born. */
  private beat(): void {
    this.heartbeat = (this.heartbeat + 1) % UINT32_MODULO;
    const now = Date.now();
    const session = this.session;
    for (const device of this.devices.all()) {
      device.set('Heartbeat', this.heartbeat, now);
      if (session?.born === true) void session.publishDeviceData(device, ['Heartbeat']);
    }
  }

  /** After each birth: reports how many decisions the gap cost. */
  private onBorn(): void {
    if (this.notBornSinceBirth > 0) {
      this.reporter.log.info(
        { dropped: this.notBornSinceBirth },
        'sparkplug born again: decisions dropped while not born; the DBIRTHs carry the current values',
      );
    }
    this.notBornSinceBirth = 0;
  }

  private refuseCamera(cameraId: string): void {
    if (this.refusedCameras.has(cameraId) || this.refusedCameras.size >= 100) return;
    this.refusedCameras.add(cameraId);
    this.reporter.log.warn(
      { camera: cameraId, maxCameras: this.config.maxCameras },
      'sparkplug: maxCameras devices exist already; this camera is not published',
    );
  }

  /** Counts and reports one message given up on; returns `dropped`. */
  private drop(reason: DropReason, cameraId: string, decision?: Decision): 'dropped' {
    this.hooks.metrics?.publishErrors.inc({ sink: this.name });
    if (reason === 'closed') {
      this.stats.droppedNotBorn += 1;
      if (this.notBornSinceBirth === 0) {
        this.reporter.log.warn(
          'sparkplug node not born (broker unreachable or primary host offline): decisions are dropped, not queued',
        );
      }
      this.notBornSinceBirth += 1;
    } else if (reason === 'overflow') {
      this.stats.droppedTooManyCameras += 1;
      this.refuseCamera(cameraId);
    } else {
      this.stats.droppedBadCamera += 1;
      this.reporter.log.warn({ camera: cameraId }, 'sparkplug: camera id not usable as a device id');
    }
    const destination = deviceTopic(this.config, 'DDATA', cameraId);
    this.hooks.onDrop?.({
      sink: this.name,
      reason,
      destination,
      ...(decision === undefined ? {} : { decision }),
    });
    return 'dropped';
  }

  private target(): string {
    const host = this.config.primaryHostId;
    return host === undefined
      ? redactUrl(this.config.url)
      : `${redactUrl(this.config.url)} (primary host ${host})`;
  }

  private loadTls(): TlsMaterial | undefined {
    const tls = this.config.tls;
    return tls === undefined ? undefined : readTlsFiles(tls, `${this.name} sink`);
  }
}
