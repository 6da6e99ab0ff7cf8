/**
 * Builds the camera source a run configuration names: the simulated line-scan camera, an ENVI
 * replay, or safetensors frames from MQTT or NATS.
 */

import { readFileSync } from 'node:fs';
import type { RejectedMessage } from '../../../connectors/sources/broker-frame-source.js';
import type { CameraGateOptions } from '../../../connectors/sources/camera-gate.js';
import type { Demand } from '../../../connectors/sources/demand.js';
import { enviReplay } from '../../../connectors/sources/envi-replay.js';
import { mqttFrames } from '../../../connectors/sources/mqtt-frames.js';
import { natsFrames } from '../../../connectors/sources/nats-frames.js';
import { simulatedLineScan } from '../../../connectors/sources/simulated-line-scan.js';
import type { CameraSource, ConnectionIssue } from '../../../connectors/sources/source-state.js';
import { defined } from '../../core/defined.js';
import type { SourceConfig } from './run-config.js';
import { ServiceFileError } from './service-errors.js';

/** What the service hands every source. */
export interface SourceHooks {
  /** A broker message that is not a valid frame (the stream goes on). */
  readonly onReject?: (rejected: RejectedMessage) => void;
  /** Largest frame accepted, in values. */
  readonly maxValues?: number;
  /** Paces a source without `linesPerSecond` (simulated, envi) by the consumer's room. */
  readonly demand?: Demand;
  /** A broker source could not reach its broker, or lost it; it retries (see {@link ConnectionIssue}). */
  readonly onConnectionIssue?: (issue: ConnectionIssue) => void;
}

/** TLS settings of a broker connection, as read from a config section. */
export interface TlsFiles {
  readonly caFile?: string | undefined;
  readonly certFile?: string | undefined;
  readonly keyFile?: string | undefined;
  readonly rejectUnauthorized: boolean;
}

/**
 * Reads the PEM files of a TLS section (at start, once).
 *
 * @param field - YAML path of the section, e.g. `source.tls`, for the error message
 * @throws {@link ServiceFileError} naming the setting and file that cannot be read
 */
export function readTlsFiles(
  tls: TlsFiles,
  field: string,
): { ca?: Buffer; cert?: Buffer; key?: Buffer; rejectUnauthorized: boolean } {
  const read = (name: 'caFile' | 'certFile' | 'keyFile'): Buffer | undefined => {
    const file = tls[name];
    if (file === undefined) return undefined;
    try {
      return readFileSync(file);
    } catch (error) {
      throw new ServiceFileError(`${field}.${name}`, file, error);
    }
  };
  const [ca, cert, key] = [read('caFile'), read('certFile'), read('keyFile')];
  return defined({ ca, cert, key, rejectUnauthorized: tls.rejectUnauthorized });
}

/** The cameras a broker source admits, from its section. */
function cameraGate(config: Extract<SourceConfig, { kind: 'mqtt' | 'nats' }>): CameraGateOptions {
  return {
    cameraIds: config.cameraIds,
    acceptUnlisted: config.acceptUnlistedCameras,
    maxCameras: config.maxCameras,
  };
}

/**
 * The {@link CameraSource} of a `source` section.
 *
 * @throws the connector's option error (e.g. `SimulatorOptionError`) for a value it refuses;
 *   {@link ServiceFileError} for an unreadable TLS file
 * @example
 * ```ts
 * const camera = createSource({ kind: 'simulated', cameraId: 'cam0', width: 256, ... }, { onReject });
 * camera.frames.subscribe((block) => ...);
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
    case 'mqtt': {
      const tls = config.tls;
      return mqttFrames({
        ...broker,
        url: config.url,
        topic: config.topic,
        qos: config.qos,
        cameras: cameraGate(config),
        client: defined({
          username: config.username,
          password: config.password,
          ...(tls === undefined ? {} : readTlsFiles(tls, 'source.tls')),
        }),
      });
    }
    case 'nats':
      return natsFrames({
        ...broker,
        servers: config.servers,
        subject: config.subject,
        cameras: cameraGate(config),
        ...(config.queue === undefined ? {} : { queue: config.queue }),
        connection: defined({ user: config.user, pass: config.pass, token: config.token }),
      });
  }
}
