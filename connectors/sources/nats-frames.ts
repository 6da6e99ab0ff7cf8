import { type ConnectionOptions, connect } from '@nats-io/transport-node';
import { type BrokerFrameSourceOptions, brokerFrameSource } from './broker-frame-source.js';
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

/** The camera id in `cubestream.frames.<cameraId>`, or undefined. */
export function cameraIdFromSubject(subject: string): string | undefined {
  const parts = subject.split('.');
  return parts.length >= 3 && parts[parts.length - 2] === 'frames' ? parts[parts.length - 1] : undefined;
}

/**
 * Frames published on NATS as safetensors messages (DESIGN §4) on `cubestream.frames.<cameraId>`.
 * Reconnects forever; bad messages go to `onReject` and the stream goes on. With `queue`,
 * instances in the same group split the frames between them.
 *
 * @example
 * ```ts
 * natsFrames({ servers: 'nats://127.0.0.1:4222', queue: 'cubestream' }).frames.subscribe(...)
 * ```
 */
export function natsFrames(options: NatsFramesOptions): CameraSource {
  const subject = options.subject ?? 'cubestream.frames.*';
  return brokerFrameSource(options, async (feed) => {
    const nc = await connect({
      maxReconnectAttempts: -1,
      reconnectTimeWait: 500,
      ...options.connection,
      servers: options.servers,
    });
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
