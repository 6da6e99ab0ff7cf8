import { hostname } from 'node:os';

/**
 * Builds the camera source a run configuration names: the simulated line-scan camera, a GenICam
 * camera (Aravis), an ENVI replay, or safetensors frames from MQTT, NATS or a JetStream stream.
 */

import type { CameraStateEvents, CameraStateKeeper } from '../../../connectors/shared/camera-state-sync.js';
import type { RejectedMessage } from '../../../connectors/sources/broker-frame-source.js';
import type { CameraGateOptions } from '../../../connectors/sources/camera-gate.js';
import type { Demand } from '../../../connectors/sources/demand.js';
import { enviReplay } from '../../../connectors/sources/envi-replay.js';
import { loadAravis } from '../../../connectors/sources/genicam/aravis-library.js';
import {
  type GenicamSourceHooks,
  genicamSource,
} from '../../../connectors/sources/genicam/genicam-source.js';
import {
  type ExhaustedMessage,
  jetstreamFrames,
  type LeaseEvent,
} from '../../../connectors/sources/jetstream-frames.js';
import { mqttFrames } from '../../../connectors/sources/mqtt-frames.js';
import { natsFrames } from '../../../connectors/sources/nats-frames.js';
import { simulatedLineScan } from '../../../connectors/sources/simulated-line-scan.js';
import type { CameraSource, ConnectionIssue } from '../../../connectors/sources/source-state.js';
import { defined } from '../../core/defined.js';
import type { BrokerSourceConfig, SourceConfig } from './run-config.js';

/** What the service hands every source. */
export interface SourceHooks {
  /** A broker message that is not a valid frame (the stream goes on). */
  readonly onReject?: (rejected: RejectedMessage) => void;
  /** Largest frame accepted, in values. */
  readonly maxValues?: number;
  /**
   * Paces a source without `linesPerSecond` (simulated, envi) by the consumer's room; a
   * `jetstream` source pulls a frame only when there is room.
   */
  readonly demand?: Demand;
  /**
   * A broker source could not reach its broker, or a camera source its camera, or lost it; it
   * retries (see {@link ConnectionIssue}).
   */
  readonly onConnectionIssue?: (issue: ConnectionIssue) => void;
  /** A camera source (genicam) lost camera lines before they made a block (`incomplete`, `gap`). */
  readonly onDropped?: GenicamSourceHooks['onDropped'];
  /** A camera source (genicam) opened its camera, or opened it again after losing it. */
  readonly onCameraOpened?: GenicamSourceHooks['onOpened'];
  /** A camera source's warning at start (stale references, references taken at other settings). */
  readonly onWarning?: GenicamSourceHooks['onWarning'];
  /** A `jetstream` frame delivered more than `maxDeliver` times without its decision delivered (then terminated). */
  readonly onExhausted?: (exhausted: ExhaustedMessage) => void;
  /** A leased `jetstream` source acquired or gave up a camera. */
  readonly onLease?: (event: LeaseEvent) => void;
  /** A leased `jetstream` source's lease operation failed (retried at the next renewal). */
  readonly onLeaseError?: (error: Error) => void;
  /**
   * The pipeline's camera state, carried from owner to owner by a leased `jetstream` source
   * whose `leases.checkpoints` are enabled (with what became of each checkpoint).
   */
  readonly cameraState?: CameraStateEvents & { readonly keeper: CameraStateKeeper };
}

/** A worker id for the camera leases: `<hostname>-<pid>`, cut to the key alphabet. */
export function defaultWorkerId(): string {
  return `${hostname()}-${process.pid}`.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 64);
}

/** The cameras a broker source admits, from its section. */
function cameraGate(config: BrokerSourceConfig): CameraGateOptions {
  return {
    cameraIds: config.cameraIds,
    acceptUnlisted: config.acceptUnlistedCameras,
    maxCameras: config.maxCameras,
  };
}

/**
 * Fails fast, before anything else starts, when what the source needs is not installed: a
 * `genicam` source without Aravis (libaravis-0.8.so.0) or koffi.
 *
 * @throws `AravisUnavailableError` with the one-line fix (the Debian packages, or `npm install koffi`)
 * @example
 * ```ts
 * import { loadRunConfig } from './run-config.js';
 * const config = await loadRunConfig('configs/run/genicam-fake.yaml');
 * await requireSourceRuntime(config.source); // throws AravisUnavailableError without Aravis
 * ```
 */
export async function requireSourceRuntime(config: SourceConfig): Promise<void> {
  if (config.kind === 'genicam') await loadAravis();
}

/**
 * The {@link CameraSource} of a `source` section.
 *
 * @throws the connector's option error (`OptionError`, `ConfigError`) for a value it refuses;
 *   `TlsFileError` for an unreadable TLS file (read by the source, at start)
 * @example
 * ```ts
 * const camera = createSource(config.source, { onReject: (r) => logger.warn({ err: r.error, channel: r.channel }, 'rejected') });
 * camera.frames.subscribe((block) => console.log(block.cameraId, block.frameId));
 * ```
 */
export function createSource(config: SourceConfig, hooks: SourceHooks = {}): CameraSource {
  const broker = defined({
    onReject: hooks.onReject,
    maxValues: hooks.maxValues,
    onConnectionIssue: hooks.onConnectionIssue,
  });
  switch (config.kind) {
    case 'simulated': {
      const { kind: _kind, ...options } = config;
      return simulatedLineScan(defined({ ...options, demand: hooks.demand }));
    }
    case 'genicam': {
      const { kind: _kind, ...settings } = config;
      return genicamSource(
        defined({
          ...settings,
          onDropped: hooks.onDropped,
          onOpened: hooks.onCameraOpened,
          onConnectionIssue: hooks.onConnectionIssue,
          onWarning: hooks.onWarning,
        }),
      );
    }
    case 'envi':
      return enviReplay(
        defined({
          path: config.path,
          cameraId: config.cameraId,
          blockRows: config.blockRows,
          linesPerSecond: config.linesPerSecond,
          loop: config.loop,
          maxValues: hooks.maxValues,
          demand: hooks.demand,
          onReject: hooks.onReject,
        }),
      );
    case 'mqtt':
      return mqttFrames({
        ...broker,
        url: config.url,
        topic: config.topic,
        qos: config.qos,
        cameras: cameraGate(config),
        client: defined({ username: config.username, password: config.password }),
        ...(config.tls === undefined ? {} : { tls: config.tls }),
      });
    case 'nats':
      return natsFrames({
        ...broker,
        servers: config.servers,
        subject: config.subject,
        cameras: cameraGate(config),
        queue: config.queue,
        connection: defined({ user: config.user, pass: config.pass, token: config.token }),
      });
    case 'jetstream': {
      const { tls } = config;
      return jetstreamFrames(
        defined({
          ...broker,
          servers: config.servers,
          stream: config.stream,
          createStream: config.createStream,
          subjectPrefix: config.subjectPrefix,
          durable: config.durable,
          ackWaitSeconds: config.ackWaitSeconds,
          maxAckPending: config.maxAckPending,
          maxDeliver: config.maxDeliver,
          cameras: cameraGate(config),
          demand: hooks.demand,
          onExhausted: hooks.onExhausted,
          leases:
            config.leases === undefined
              ? undefined
              : defined({
                  bucket: config.leases.bucket,
                  ttlMs: config.leases.ttlSeconds * 1000,
                  replicas: config.leases.replicas,
                  workerId: config.leases.workerId ?? defaultWorkerId(),
                  onChange: hooks.onLease,
                  onError: hooks.onLeaseError,
                  state:
                    hooks.cameraState === undefined || !config.leases.checkpoints.enabled
                      ? undefined
                      : { ...hooks.cameraState, bucket: config.leases.checkpoints.bucket },
                }),
          credsFile: config.credsFile,
          connection: defined({
            user: config.user,
            pass: config.pass,
            token: config.token,
            tls:
              tls === undefined
                ? undefined
                : defined({
                    caFile: tls.caFile,
                    certFile: tls.certFile,
                    keyFile: tls.keyFile,
                    rejectUnauthorized: tls.rejectUnauthorized,
                  }),
          }),
        }),
      );
    }
  }
}
