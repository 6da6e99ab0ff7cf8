/**
 * Creates or checks the durable pull consumer a JetStream frame source reads with: explicit
 * acks, the ack wait, the most frames in flight, and a delivery cap, so a worker pointed at a
 * consumer of another kind fails at start with a clear message.
 */
import {
  AckPolicy,
  type ConsumerConfig,
  type ConsumerInfo,
  DeliverPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  type JetStreamManager,
} from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import { CubestreamError } from '../../src/core/errors.js';

/** The durable consumer {@link ensureFrameConsumer} makes sure of. */
export interface FrameConsumerConfig {
  /** The stream holding the frames. */
  readonly stream: string;
  /** Durable consumer name, shared by the workers that split the frames. */
  readonly durable: string;
  /**
   * The subject consumed (the consumer's `filter_subject`), e.g. `cubestream.frames.>`, or one
   * camera's `cubestream.frames.cam1`. One subject, so that servers before 2.10 (no
   * `filter_subjects`) take it too.
   */
  readonly subject: string;
  /** How long the server waits for an ack before it delivers a frame again, ms. */
  readonly ackWaitMs: number;
  /** Most frames delivered and not yet acknowledged. */
  readonly maxAckPending: number;
  /** The server's delivery cap of one frame (`max_deliver`). */
  readonly maxDeliver: number;
}

/** A durable consumer that exists with settings a frame source cannot work with. */
export class ConsumerConfigError extends CubestreamError {
  /**
   * @param stream - stream name
   * @param durable - consumer name
   * @param detail - what is wrong
   */
  constructor(stream: string, durable: string, detail: string, options?: { cause?: unknown }) {
    super(
      'consumer_config',
      `JetStream consumer ${JSON.stringify(durable)} of stream ${JSON.stringify(stream)}: ${detail}`,
      options,
    );
  }
}

function isConsumerNotFound(error: unknown): boolean {
  return error instanceof JetStreamApiError && error.code === JetStreamApiCodes.ConsumerNotFound;
}

/** True when the consumer filters on `subject` alone. */
function sameSubject(info: ConsumerInfo, subject: string): boolean {
  const many = info.config.filter_subjects ?? [];
  return info.config.filter_subject === subject && many.length === 0;
}

/**
 * Makes sure the durable pull consumer `config.durable` of `config.stream` exists with explicit
 * acks and the ack wait, max ack pending, max deliver and subject filter of `config`: creates it
 * (delivering every frame still in the stream) or updates what differs.
 *
 * @throws {@link ConsumerConfigError} when the consumer is a push consumer or does not use
 *   explicit acks (those cannot be changed: delete it or name another), or cannot be created
 * @example
 * ```ts
 * declare const jsm: import('@nats-io/jetstream').JetStreamManager;
 * await ensureFrameConsumer(jsm, { stream: 'CUBESTREAM_FRAMES', durable: 'cubestream-worker',
 *   subject: 'cubestream.frames.>', ackWaitMs: 30_000, maxAckPending: 16, maxDeliver: 6 });
 * ```
 */
export async function ensureFrameConsumer(
  jsm: JetStreamManager,
  config: FrameConsumerConfig,
): Promise<ConsumerInfo> {
  const { stream, durable } = config;
  const settings = {
    ack_wait: nanos(config.ackWaitMs),
    max_ack_pending: config.maxAckPending,
    max_deliver: config.maxDeliver,
    filter_subject: config.subject,
  };
  let info: ConsumerInfo;
  try {
    info = await jsm.consumers.info(stream, durable);
  } catch (error) {
    if (!isConsumerNotFound(error)) {
      throw new ConsumerConfigError(stream, durable, `cannot be looked up: ${String(error)}`, {
        cause: error,
      });
    }
    try {
      return await jsm.consumers.add(stream, {
        durable_name: durable,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All,
        ...settings,
      });
    } catch (addError) {
      throw new ConsumerConfigError(stream, durable, `cannot be created: ${String(addError)}`, {
        cause: addError,
      });
    }
  }
  if (info.config.deliver_subject !== undefined && info.config.deliver_subject !== '') {
    throw new ConsumerConfigError(
      stream,
      durable,
      'is a push consumer; a frame source needs a pull consumer: delete it or name another durable',
    );
  }
  if (info.config.ack_policy !== AckPolicy.Explicit) {
    throw new ConsumerConfigError(
      stream,
      durable,
      `acks ${info.config.ack_policy}; a frame source needs explicit acks: delete it or name another durable`,
    );
  }
  const same =
    info.config.ack_wait === settings.ack_wait &&
    info.config.max_ack_pending === settings.max_ack_pending &&
    info.config.max_deliver === settings.max_deliver &&
    sameSubject(info, config.subject);
  if (same) return info;
  try {
    const update: Partial<ConsumerConfig> = { ...settings };
    // A consumer made with several filters (server 2.10+) keeps only this one.
    if ((info.config.filter_subjects ?? []).length > 0) update.filter_subjects = [];
    return await jsm.consumers.update(stream, durable, update);
  } catch (error) {
    throw new ConsumerConfigError(stream, durable, `cannot be updated: ${String(error)}`, {
      cause: error,
    });
  }
}

/**
 * The consumer of one camera for its new owner (camera leases): created when missing, else
 * recreated to start at the first frame not acknowledged (its ack floor + 1), so that the frames
 * the previous owner had in flight come first and in order, at once rather than after the ack
 * wait. Frames acknowledged beyond the floor come again: their decisions repeat with the same
 * ids, and the decisions stream drops them as duplicates.
 *
 * @throws {@link ConsumerConfigError} when the consumer cannot be looked up, deleted or created
 */
export async function resumeFrameConsumer(
  jsm: JetStreamManager,
  config: FrameConsumerConfig,
): Promise<ConsumerInfo> {
  const { stream, durable } = config;
  let info: ConsumerInfo | undefined;
  try {
    info = await jsm.consumers.info(stream, durable);
  } catch (error) {
    if (!isConsumerNotFound(error)) {
      throw new ConsumerConfigError(stream, durable, `cannot be looked up: ${String(error)}`, {
        cause: error,
      });
    }
  }
  if (info === undefined || info.num_ack_pending === 0) return ensureFrameConsumer(jsm, config);
  const from = info.ack_floor.stream_seq + 1;
  try {
    await jsm.consumers.delete(stream, durable);
    return await jsm.consumers.add(stream, {
      durable_name: durable,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: from,
      ack_wait: nanos(config.ackWaitMs),
      max_ack_pending: config.maxAckPending,
      max_deliver: config.maxDeliver,
      filter_subject: config.subject,
    });
  } catch (error) {
    throw new ConsumerConfigError(
      stream,
      durable,
      `cannot be resumed at stream sequence ${from}: ${String(error)}`,
      {
        cause: error,
      },
    );
  }
}
