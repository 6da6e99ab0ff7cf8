/**
 * Dead letters: what the service does with a frame it rejects (bad shape, non-finite values,
 * truncated message…). Each becomes a small JSON record
 * `{"schema":"cubestream.deadletter/1","reason","message","cameraId"?,"frameId"?,"at",...metadata}`
 * sent to any mix of targets: MQTT `<prefix>/<cameraId>/deadletter`, NATS
 * `cubestream.deadletter.<cameraId>` (the MQTT and NATS decision sinks are targets) and JSONL files.
 *
 * @example
 * ```ts
 * import { validateFrame } from 'cubestream';
 * import { MqttDecisionSink } from 'cubestream/connectors';
 * const mqttSink = new MqttDecisionSink({ url: 'mqtt://127.0.0.1:1883', cameraIds: ['cam0'], modelVersion: 'v1' });
 * const deadLetters = new DeadLetterSink([mqttSink, new JsonlDeadLetterFile({ path: 'dead.jsonl' })], { metrics });
 * try { validateFrame(frame); } catch (error) {
 *   await deadLetters.publish(deadLetterFromError(error, { cameraId: frame.cameraId, frameId: frame.frameId }));
 * }
 * ```
 */
import { UNKNOWN_CAMERA } from '../../src/core/camera-id.js';
import { asError, CubestreamError } from '../../src/core/errors.js';
import { SinkClosedError } from './errors.js';
import { JsonlAppender } from './jsonl-appender.js';
import type { PublishOutcome, SinkHooks } from './sink.js';
import { SinkReporter } from './sink-reporter.js';

/** Value of the `schema` field of every dead letter. */
export const DEAD_LETTER_SCHEMA = 'cubestream.deadletter/1';

/** A JSON value (dead-letter metadata must serialise losslessly). */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** A rejected frame's record. */
export interface DeadLetter {
  /** Stable reason code (the `CubestreamError.code`, e.g. `shape`, `nonfinite`). */
  reason: string;
  /** Human-readable message naming the offending field and value. */
  message: string;
  cameraId?: string;
  frameId?: number;
  /** Epoch ms when the frame was rejected. */
  at: number;
  /** Extra fields, written at the top level of the JSON (fixed fields win on a name clash). */
  metadata?: Record<string, JsonValue>;
}

/** Something that can carry dead letters (MQTT sink, NATS sink, {@link JsonlDeadLetterFile}). */
export interface DeadLetterTarget {
  /** Metric label and log name. */
  readonly name: string;
  /** Sends one dead letter; same outcomes as a decision publish. */
  publishDeadLetter(letter: DeadLetter): Promise<PublishOutcome>;
}

/** Serialises a dead letter: fixed fields first, then the metadata spread at the top level. */
export function encodeDeadLetter(letter: DeadLetter): string {
  const fixed: Record<string, JsonValue> = {
    schema: DEAD_LETTER_SCHEMA,
    reason: letter.reason,
    message: letter.message,
  };
  if (letter.cameraId !== undefined) fixed.cameraId = letter.cameraId;
  if (letter.frameId !== undefined) fixed.frameId = letter.frameId;
  fixed.at = letter.at;
  return JSON.stringify({ ...fixed, ...letter.metadata, ...fixed });
}

/** Where a dead letter came from. */
export interface DeadLetterContext {
  cameraId?: string;
  frameId?: number;
  metadata?: Record<string, JsonValue>;
  /** Epoch ms; default now. */
  at?: number;
}

/**
 * Builds a dead letter from a caught error: `reason` is the `CubestreamError.code`
 * (`error` for any other error), `message` its message.
 */
export function deadLetterFromError(error: unknown, context: DeadLetterContext = {}): DeadLetter {
  const letter: DeadLetter = {
    reason: error instanceof CubestreamError ? error.code : 'error',
    message: error instanceof Error ? error.message : String(error),
    at: context.at ?? Date.now(),
  };
  if (context.cameraId !== undefined) letter.cameraId = context.cameraId;
  if (context.frameId !== undefined) letter.frameId = context.frameId;
  if (context.metadata !== undefined) letter.metadata = context.metadata;
  return letter;
}

/** Options of {@link JsonlDeadLetterFile}. */
export interface JsonlDeadLetterFileOptions {
  /** JSONL file to append dead letters to. */
  path: string;
  /** Target name (metric label); default `deadletter-file`. */
  name?: string;
}

/** A JSONL file of dead letters. Open it with {@link open}, close it with {@link close}. */
export class JsonlDeadLetterFile implements DeadLetterTarget {
  /** Metric label and log name. */
  readonly name: string;
  private readonly file: JsonlAppender;

  /** @param options - see {@link JsonlDeadLetterFileOptions} */
  constructor(options: JsonlDeadLetterFileOptions) {
    this.name = options.name ?? 'deadletter-file';
    this.file = new JsonlAppender(options.path, this.name);
  }

  /** Creates/opens the file for appending. */
  open(): Promise<void> {
    return this.file.open();
  }

  /** Appends the dead letter; `acked` once written. */
  async publishDeadLetter(letter: DeadLetter): Promise<PublishOutcome> {
    if (!this.file.isOpen) throw new SinkClosedError(this.name);
    await this.file.append(encodeDeadLetter(letter));
    return 'acked';
  }

  /** Syncs and closes the file. */
  close(): Promise<void> {
    return this.file.close();
  }
}

/** Per-target result of {@link DeadLetterSink.publish}: the outcome, or the error. */
export type DeadLetterResult = Record<string, PublishOutcome | Error>;

/**
 * Fans dead letters out to several targets. It never throws: a failing target is counted in
 * `publish_errors_total{sink=<target name>}`, logged and passed to `onError`, and the other
 * targets still get the letter. It does not own the targets (close them yourself).
 */
export class DeadLetterSink {
  private readonly reporters: Map<DeadLetterTarget, SinkReporter>;

  /**
   * @param targets - where each dead letter goes
   * @param hooks - metrics, logger, onError
   */
  constructor(
    private readonly targets: readonly DeadLetterTarget[],
    hooks: Pick<SinkHooks, 'metrics' | 'logger' | 'onError'> = {},
  ) {
    this.reporters = new Map(targets.map((target) => [target, new SinkReporter(target.name, hooks)]));
  }

  /** Sends the letter to every target; resolves with each target's outcome or error. */
  async publish(letter: DeadLetter): Promise<DeadLetterResult> {
    const settled = await Promise.allSettled(this.targets.map((target) => target.publishDeadLetter(letter)));
    const result: DeadLetterResult = {};
    settled.forEach((outcome, index) => {
      const target = this.targets[index];
      if (target === undefined) return;
      if (outcome.status === 'fulfilled') {
        result[target.name] = outcome.value;
        return;
      }
      const error = asError(outcome.reason);
      result[target.name] = error;
      this.reporters.get(target)?.attemptFailed(error, `deadletter:${letter.cameraId ?? UNKNOWN_CAMERA}`);
    });
    return result;
  }
}
