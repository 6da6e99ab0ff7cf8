import type { ConnectionOptions, NatsConnection, NodeConnectionOptions } from '@nats-io/transport-node';
import { redactUrl } from '../../src/telemetry/redact.js';
import { connectNats } from '../shared/nats-connect.js';
import { type BrokerFeed, type BrokerFrameSourceOptions, brokerFrameSource } from './broker-frame-source.js';
import { NATS_SOURCE_DEFAULTS } from './broker-source-options.js';
import type { CameraSource } from './source-state.js';

/** Options of {@link natsFrames}. */
export interface NatsFramesOptions extends BrokerFrameSourceOptions {
  /** Server URL(s), e.g. `nats://127.0.0.1:4222`. */
  servers: string | string[];
  /** Subject (default `cubestream.frames.*`); the last token is taken as the camera id. */
  subject?: string;
  /** Queue group, so several cubestream instances share the frames (scale-out). */
  queue?: string;
  /** Extra connection options (credentials, TLS, name). */
  connection?: Omit<ConnectionOptions, 'servers'>;
}

function serverList(servers: string | readonly string[]): string {
  return typeof servers === 'string' ? servers : servers.join(',');
}

/**
 * Reports a lost connection (the client reconnects by itself) and its return to `feed`;
 * `label` names the source in the error (default `nats source`).
 */
export function watchConnection(
  nc: NatsConnection,
  feed: BrokerFeed,
  retryInMs: number,
  label = 'nats source',
): void {
  void (async () => {
    let attempt = 0;
    for await (const status of nc.status()) {
      if (status.type === 'disconnect') {
        attempt += 1;
        feed.disconnected({ error: new Error(`${label}: lost ${status.server}`), attempt, retryInMs });
      } else if (status.type === 'reconnect') {
        attempt = 0;
        feed.connected();
      }
    }
  })().catch(() => undefined);
}

/** The camera id in `cubestream.frames.<cameraId>`, or undefined. */
export function cameraIdFromSubject(subject: string): string | undefined {
  const parts = subject.split('.');
  return parts.length >= 3 && parts[parts.length - 2] === 'frames' ? parts[parts.length - 1] : undefined;
}

/**
 * Frames published on NATS as safetensors messages (docs/wire-format.md §1) on `cubestream.frames.<cameraId>`.
 * A server that is not up yet, or lost, puts the source in state `disconnected` (each failed
 * attempt reported to `onConnectionIssue`) and is retried forever, unless
 * `connection.reconnect` is false; an untrusted TLS certificate or refused credentials end the
 * stream with the reason. Bad messages go to `onReject` and the stream goes on. With `queue`,
 * instances in the same group split the frames between them.
 *
 * @example
 * ```ts
 * natsFrames({ servers: 'nats://127.0.0.1:4222', queue: 'cubestream' }).frames.subscribe((f) => console.log(f.frameId));
 * ```
 */
export function natsFrames(options: NatsFramesOptions): CameraSource {
  const subject = options.subject ?? NATS_SOURCE_DEFAULTS.subject;
  return brokerFrameSource(options, async (feed) => {
    const connection: NodeConnectionOptions = {
      maxReconnectAttempts: -1,
      reconnectTimeWait: 500,
      ...options.connection,
      servers: options.servers,
    };
    const retries = connection.reconnect !== false;
    const nc = await connectNats(connection, {
      isClosed: () => feed.closed || !retries,
      ...(options.reconnect === undefined ? {} : { backoff: options.reconnect }),
      onAttemptFailed: (error, attempt, retryInMs) =>
        feed.disconnected({
          error: new Error(`nats source: ${redactUrl(serverList(options.servers))}: ${error.message}`, {
            cause: error,
          }),
          attempt,
          retryInMs,
        }),
      fatal: (kind, detail, cause) =>
        new Error(
          `nats source: ${redactUrl(serverList(options.servers))}: ${kind === 'tls' ? `TLS failed: ${detail}` : `refused the credentials: ${detail}`}`,
          { cause },
        ),
    });
    if (feed.closed) {
      await nc.close();
      return { close: async () => undefined };
    }
    watchConnection(nc, feed, connection.reconnectTimeWait ?? 500);
    nc.subscribe(subject, {
      ...(options.queue === undefined ? {} : { queue: options.queue }),
      callback: (error, msg) => {
        if (error) feed.failed(error);
        else feed.message(msg.data, msg.subject, cameraIdFromSubject(msg.subject));
      },
    });
    await nc.flush();
    feed.connected();
    return { close: () => nc.drain() };
  });
}
