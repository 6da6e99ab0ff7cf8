import { Observable } from 'rxjs';
import { asError } from '../../src/core/errors.js';
import type { CubeFrame } from '../../src/core/frame.js';
import { InvalidFrameError } from '../../src/core/frame.js';
import { type DecodeFrameOptions, decodeFrameMessage } from '../codec/frame-safetensors.js';
import type { BackoffOptions } from '../shared/backoff.js';
import { CameraGate, type CameraGateOptions } from './camera-gate.js';
import type { CameraSource } from './source-state.js';
import { type ConnectionIssue, createSourceState } from './source-state.js';

/** A frame message that could not be turned into a frame; handed to `onReject`. */
export interface RejectedMessage {
  /** Why: an {@link InvalidFrameError} whose `code` is the rejection reason. */
  readonly error: InvalidFrameError;
  /** The message's camera, once admitted (absent: unknown or refused, so not a label to trust). */
  readonly cameraId?: string;
  /** The topic or subject the message arrived on (at most {@link MAX_CHANNEL_CHARS} characters). */
  readonly channel: string;
  /** Size of the payload in bytes. */
  readonly bytes: number;
}

/** What every broker-fed source accepts beyond its connection settings. */
export interface BrokerFrameSourceOptions {
  /** Largest `H*W*C` accepted per message (see {@link DecodeFrameOptions.maxValues}). */
  maxValues?: number;
  /** Called for each message that is not a valid frame; the stream goes on. */
  onReject?: (rejected: RejectedMessage) => void;
  /**
   * Cameras admitted (see {@link CameraGate}); default: any valid id, at most 16 cameras. The
   * service passes the source's `cameraIds` as an allow-list.
   */
  cameras?: CameraGateOptions;
  /** Called each time a connection attempt fails or the connection is lost (the source retries). */
  onConnectionIssue?: (issue: ConnectionIssue) => void;
  /** Backoff between reconnect attempts; default 500 ms doubling up to 30 s. */
  reconnect?: BackoffOptions;
}

/** Longest channel name kept in a {@link RejectedMessage} (a topic can be 64 kB). */
export const MAX_CHANNEL_CHARS = 256;

/** A connected subscription that delivers raw payloads until closed. */
export interface BrokerSubscription {
  /** Stops delivery and closes the connection. */
  close(): Promise<void>;
}

/** What {@link BrokerFeed.message} did with a payload. */
export type BrokerMessageOutcome = 'emitted' | 'rejected' | 'closed';

/** Callbacks a transport uses to feed {@link brokerFrameSource}. */
export interface BrokerFeed {
  /**
   * A payload arrived on `channel`; `cameraId` when the channel names it. With `ack` (a
   * JetStream message's), the emitted frame carries it as `CubeFrame.ack`. Returns what became
   * of it: `emitted` as a frame, `rejected` (handed to `onReject`), or `closed` (the source was
   * unsubscribed: dropped unread).
   */
  message(
    payload: Uint8Array,
    channel: string,
    cameraId: string | undefined,
    ack?: () => void,
  ): BrokerMessageOutcome;
  /** The transport is connected and subscribed. */
  connected(): void;
  /** The transport is not connected (an attempt failed, or the connection was lost); it retries. */
  disconnected(issue: ConnectionIssue): void;
  /** The transport failed for good. */
  failed(error: Error): void;
  /** True once the source was unsubscribed: a transport still connecting gives up. */
  readonly closed: boolean;
}

/**
 * Shared core of the MQTT and NATS frame sources: turns payloads into validated frames, sends
 * bad ones to `onReject` (the stream keeps running) and tracks the source state. `open` connects
 * the transport on subscribe; its subscription is closed on unsubscribe.
 */
export function brokerFrameSource(
  options: BrokerFrameSourceOptions,
  open: (feed: BrokerFeed) => Promise<BrokerSubscription>,
): CameraSource {
  const controller = createSourceState();
  const gate = new CameraGate(options.cameras ?? { cameraIds: [], acceptUnlisted: true });
  const frames = new Observable<CubeFrame>((subscriber) => {
    controller.set('starting');
    let closed = false;
    let subscription: BrokerSubscription | undefined;
    const feed: BrokerFeed = {
      message(payload, channel, channelCamera, ack) {
        if (closed) return 'closed';
        const reject = (error: InvalidFrameError, cameraId?: string): 'rejected' => {
          options.onReject?.({
            error,
            ...(cameraId === undefined ? {} : { cameraId }),
            channel:
              channel.length > MAX_CHANNEL_CHARS ? `${channel.slice(0, MAX_CHANNEL_CHARS)}...` : channel,
            bytes: payload.byteLength,
          });
          return 'rejected';
        };
        // The topic/subject decides the camera: refuse an unknown one before decoding anything.
        const refused = channelCamera === undefined ? undefined : gate.check(channelCamera);
        if (refused !== undefined) return reject(refused);
        let frame: CubeFrame;
        try {
          const decodeOptions: DecodeFrameOptions = {
            ...(channelCamera === undefined ? {} : { cameraId: channelCamera }),
          };
          if (options.maxValues !== undefined) decodeOptions.maxValues = options.maxValues;
          frame = decodeFrameMessage(payload, decodeOptions);
        } catch (error) {
          const invalid =
            error instanceof InvalidFrameError
              ? error
              : new InvalidFrameError('decode', 'message', `${payload.byteLength} bytes`, String(error), {
                  cause: error,
                });
          return reject(invalid, channelCamera);
        }
        const mismatch =
          channelCamera === undefined
            ? gate.check(frame.cameraId, '__metadata__.camera_id')
            : gate.agree(channelCamera, frame.cameraId);
        if (mismatch !== undefined) return reject(mismatch, channelCamera);
        subscriber.next(ack === undefined ? frame : { ...frame, ack });
        return 'emitted';
      },
      connected() {
        if (!closed) controller.set('running');
      },
      disconnected(issue) {
        if (closed) return;
        controller.set('disconnected');
        options.onConnectionIssue?.(issue);
      },
      get closed() {
        return closed;
      },
      failed(error) {
        if (closed) return;
        controller.set('error');
        subscriber.error(error);
      },
    };
    open(feed).then(
      (opened) => {
        if (closed) void opened.close();
        else subscription = opened;
      },
      (error: unknown) => feed.failed(asError(error)),
    );
    return () => {
      closed = true;
      if (controller.current !== 'error') controller.set('ended');
      void subscription?.close();
    };
  });
  return { frames, state: controller.state };
}
