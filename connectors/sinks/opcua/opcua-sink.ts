/**
 * Serves decisions to PLCs and SCADA as an OPC UA server (node-opcua, loaded on `connect()`).
 *
 * Address space, in the namespace `namespaceUri` (default `urn:cubestream`; clients resolve its
 * index from the NamespaceArray):
 *
 * ```text
 * Objects/Cameras                      s=Cameras               folder
 * Objects/Cameras/<cameraId>           s=Cameras.<cameraId>    object, event notifier
 *   Anomalous, AnomalousPixels, …      s=Cameras.<cameraId>.Anomalous, …  (CAMERA_VARIABLES)
 * Types/…/BaseEventType/AnomalyEventType   s=AnomalyEventType  one event per anomalous decision
 * Types/…/BaseEventType/EjectEventType     s=EjectEventType    one event per raiseEject()
 * ```
 *
 * Every decision updates its camera's variables (source timestamp = capture time) and resolves
 * `acked`; an anomalous one also raises an `AnomalyEventType` event on the camera object. A
 * client that must see every decision subscribes to the events, or monitors the variables with
 * samplingInterval 0 (the server then reports every change, queued up to the item's queueSize);
 * a sampled monitored item sees the latest value of each interval.
 */
import type { Namespace, OPCUAServer, UAObject } from 'node-opcua';
import { isCameraId } from '../../../src/core/camera-id.js';
import type { Decision } from '../../../src/core/decision.js';
import { asError } from '../../../src/core/errors.js';
import { checkOption } from '../../../src/core/options.js';
import { SinkClosedError } from '../errors.js';
import { OutgoingMessage } from '../outgoing-message.js';
import { waitUntilIdle } from '../retry.js';
import type { DecisionSink, DropReason, PublishOutcome, SinkHooks, StatusUpdate } from '../sink.js';
import { sinkComponent } from '../sink-options.js';
import { SinkReporter } from '../sink-reporter.js';
import { OpcuaCameraNode } from './opcua-camera-node.js';
import {
  addOpcuaEventTypes,
  type OpcuaEventTypes,
  raiseAnomalyEvent,
  raiseEjectEvent,
} from './opcua-events.js';
import { createOpcuaServer, type NodeOpcuaModule } from './opcua-server.js';
import {
  type OpcuaEject,
  type OpcuaSinkOptionsInput,
  type OpcuaSinkSettings,
  parseOpcuaSinkOptions,
} from './opcua-sink-options.js';

/** Options of {@link OpcuaDecisionSink}: the settings of `opcuaSinkOptionsSchema`, the hooks, a name. */
export interface OpcuaSinkOptions extends OpcuaSinkOptionsInput, SinkHooks {
  /** Sink name (metric label); default `opcua`. */
  name?: string;
  /** Initial `ModelVersion` of every camera (each decision then sets its own); default none. */
  modelVersion?: string;
}

/** What exists once the server is initialised. */
interface Running {
  readonly opcua: NodeOpcuaModule;
  readonly server: OPCUAServer;
  readonly namespace: Namespace;
  readonly folder: UAObject;
  readonly events: OpcuaEventTypes;
}

function isUInt32(value: number): boolean {
  return Number.isInteger(value) && value >= 0 && value < 2 ** 32;
}

/** Refused camera ids remembered, so that each is logged once (bounded). */
const MAX_REFUSED_LOGGED = 1000;

/**
 * The OPC UA decision sink.
 *
 * @example
 * ```ts
 * const sink = new OpcuaDecisionSink({
 *   port: 4840, users: [{ username: 'plc', password: process.env.OPCUA_PLC_PASSWORD ?? '' }],
 *   cameraIds: ['cam0'], modelVersion: 'v3', metrics, logger,
 * });
 * await sink.connect();                         // listening on opc.tcp://<host>:4840
 * await sink.publish(decision);                 // 'acked'; Cameras/cam0/* updated
 * await sink.publishStatus('cam0', { threshold: 0.42, centerDrift: 0.01 });
 * sink.raiseEject('cam0', { frameId: 7, blobId: '7:0:0', valves: [3, 4], fireAt: Date.now() + 120 });
 * await sink.close();
 * ```
 */
export class OpcuaDecisionSink implements DecisionSink {
  /** Metric label and log name. */
  readonly name: string;
  /** The validated settings, defaults filled in. */
  readonly settings: OpcuaSinkSettings;
  private readonly modelVersion: string | undefined;
  private readonly reporter: SinkReporter;
  private readonly cameras = new Map<string, OpcuaCameraNode>();
  private readonly refused = new Set<string>();
  private running: Running | undefined;
  private starting: Promise<void> | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private beats = 0;
  private listening = false;
  private closed = false;
  private refusedDecisions = 0;

  /**
   * @param options - see {@link OpcuaSinkOptions}
   * @throws `OptionError` for an invalid option, or no user while `allowAnonymous` is false
   */
  constructor(options: OpcuaSinkOptions) {
    const { metrics, logger, onDrop, onDelivered, onError, name, modelVersion, ...settings } = options;
    this.name = name ?? 'opcua';
    this.settings = parseOpcuaSinkOptions(settings, this.name);
    this.modelVersion = modelVersion;
    this.reporter = new SinkReporter(
      this.name,
      { metrics, logger, onDrop, onDelivered, onError },
      { port: this.settings.port },
    );
    this.reporter.connected(false);
  }

  /** True while the server listens. */
  get connected(): boolean {
    return this.listening && !this.closed;
  }

  /** Always 0: a publish updates the address space at once. */
  get pending(): number {
    return 0;
  }

  /** The server's main endpoint URL (`opc.tcp://<fqdn>:<port>`) once listening. */
  get endpointUrl(): string | undefined {
    return this.listening ? this.running?.server.getEndpointUrl() : undefined;
  }

  /** Cameras in the address space. */
  get cameraCount(): number {
    return this.cameras.size;
  }

  /** Decisions dropped because their camera was beyond `maxCameras` (or not a valid id). */
  get refusedDecisionCount(): number {
    return this.refusedDecisions;
  }

  /**
   * Loads node-opcua, initialises the PKI (generating the certificate on first start), builds
   * the address space with the `cameraIds` cameras and starts listening; then starts the
   * heartbeat. Rejects when the server cannot start (port in use, unreadable certificate).
   */
  connect(): Promise<void> {
    if (this.closed) return Promise.reject(new SinkClosedError(this.name));
    this.starting ??= this.start().catch((error: unknown) => {
      const failure = asError(error);
      this.reporter.error(failure, { port: this.settings.port });
      throw failure;
    });
    return this.starting;
  }

  /**
   * Updates the camera's variables (creating the camera on its first decision, up to
   * `maxCameras`) and, for an anomalous decision, raises an `AnomalyEventType` event. Resolves
   * `acked`; `dropped` (counted) while the server does not listen or for a camera beyond
   * `maxCameras`.
   */
  publish(decision: Decision): Promise<PublishOutcome> {
    if (this.closed) return Promise.reject(new SinkClosedError(this.name));
    const message = new OutgoingMessage(`Cameras/${decision.cameraId}`, '', decision);
    const running = this.running;
    if (!this.listening || running === undefined) return this.drop(message, 'rejected');
    const camera = this.camera(decision.cameraId);
    if (camera === undefined) {
      this.refusedDecisions += 1;
      return this.drop(message, 'overflow');
    }
    try {
      camera.update(decision);
      if (decision.anomalous) raiseAnomalyEvent(camera.object, running.events.anomaly, decision);
    } catch (error) {
      return this.drop(message, 'rejected', asError(error));
    }
    this.reporter.delivered(message);
    return message.promise;
  }

  /** Sets the camera's `Threshold`, `CenterDrift`, `Status` and `ModelVersion` from the fields given. */
  async publishStatus(cameraId: string, update: StatusUpdate): Promise<void> {
    if (this.closed) throw new SinkClosedError(this.name);
    if (!this.listening) return;
    const camera = this.camera(cameraId);
    if (camera === undefined) return;
    if (update.threshold !== undefined) camera.setThreshold(update.threshold);
    if (update.centerDrift !== undefined) camera.setCenterDrift(update.centerDrift);
    if (update.state !== undefined) camera.setStatus(update.state);
    if (update.modelVersion !== undefined) camera.setModelVersion(update.modelVersion);
  }

  /**
   * Raises an `EjectEventType` event on the camera's object (creating the camera if needed).
   *
   * @returns true when raised; false while the server does not listen or for a camera beyond `maxCameras`
   * @throws {@link SinkClosedError} after `close()`; `OptionError` for a blob id or valve that is not a UInt32
   */
  raiseEject(cameraId: string, eject: OpcuaEject): boolean {
    if (this.closed) throw new SinkClosedError(this.name);
    const component = sinkComponent(this.name);
    checkOption(
      eject.blobId.length > 0 && eject.blobId.length <= 64,
      component,
      'eject.blobId',
      eject.blobId,
      '1 to 64 characters',
    );
    checkOption(eject.valves.every(isUInt32), component, 'eject.valves', eject.valves, 'integers 0..2^32-1');
    const running = this.running;
    if (!this.listening || running === undefined) return false;
    const camera = this.camera(cameraId);
    if (camera === undefined) return false;
    raiseEjectEvent(running.opcua, camera.object, running.events.eject, eject);
    return true;
  }

  /** Resolves at once: nothing is ever pending. */
  flush(timeoutMs: number): Promise<void> {
    return waitUntilIdle(this.name, () => this.pending, timeoutMs);
  }

  /** Stops the heartbeat, marks every camera `offline`, and shuts the server down. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.heartbeat !== undefined) clearInterval(this.heartbeat);
    this.heartbeat = undefined;
    await this.starting?.catch(() => undefined);
    for (const camera of this.cameras.values()) camera.setStatus('offline');
    this.listening = false;
    this.reporter.connected(false);
    const server = this.running?.server;
    this.running = undefined;
    if (server !== undefined) {
      await server
        .shutdown()
        .catch((error: unknown) => this.reporter.error(asError(error), { during: 'close' }));
    }
    this.reporter.log.info('opc ua server stopped');
  }

  private async start(): Promise<void> {
    const opcua = await import('node-opcua');
    const server = await createOpcuaServer(opcua, this.settings, this.modelVersion ?? 'unknown', this.name);
    const addressSpace = server.engine.addressSpace;
    if (addressSpace === null || this.closed) {
      await server.shutdown();
      throw this.closed ? new SinkClosedError(this.name) : new Error('node-opcua built no address space');
    }
    const namespace = addressSpace.registerNamespace(this.settings.namespaceUri);
    const folder = namespace.addFolder(addressSpace.rootFolder.objects, {
      browseName: 'Cameras',
      nodeId: 's=Cameras',
    });
    this.running = { opcua, server, namespace, folder, events: addOpcuaEventTypes(namespace) };
    for (const cameraId of this.settings.cameraIds) this.camera(cameraId);
    await server.start();
    if (this.closed) {
      await server.shutdown();
      throw new SinkClosedError(this.name);
    }
    this.listening = true;
    this.reporter.connected(true);
    this.heartbeat = setInterval(() => this.beat(), this.settings.heartbeatMs);
    this.heartbeat.unref();
    this.reporter.log.info(
      {
        endpoint: server.getEndpointUrl(),
        securityModes: this.settings.securityModes,
        namespaceUri: this.settings.namespaceUri,
        cameras: [...this.cameras.keys()],
      },
      'opc ua server listening',
    );
  }

  private beat(): void {
    this.beats = (this.beats + 1) % 2 ** 32;
    const now = new Date();
    for (const camera of this.cameras.values()) camera.setHeartbeat(this.beats, now);
  }

  /** The camera's node, created if needed; undefined for an invalid id or one beyond `maxCameras`. */
  private camera(cameraId: string): OpcuaCameraNode | undefined {
    const existing = this.cameras.get(cameraId);
    if (existing !== undefined) return existing;
    const running = this.running;
    if (running === undefined) return undefined;
    if (!isCameraId(cameraId) || this.cameras.size >= this.settings.maxCameras) {
      if (!this.refused.has(cameraId) && this.refused.size < MAX_REFUSED_LOGGED) {
        this.refused.add(cameraId);
        this.reporter.log.warn(
          { camera: cameraId, maxCameras: this.settings.maxCameras },
          isCameraId(cameraId) ? 'camera beyond maxCameras: not added' : 'invalid camera id: not added',
        );
      }
      return undefined;
    }
    const camera = new OpcuaCameraNode(
      running.opcua,
      running.namespace,
      running.folder,
      cameraId,
      this.modelVersion,
    );
    camera.setHeartbeat(this.beats);
    this.cameras.set(cameraId, camera);
    return camera;
  }

  private drop(message: OutgoingMessage, reason: DropReason, error?: Error): Promise<PublishOutcome> {
    this.reporter.dropped(message, reason, error);
    return message.promise;
  }
}
