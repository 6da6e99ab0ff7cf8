/**
 * Creates or checks the JetStream stream that stores decisions, so that a misconfigured stream
 * fails at start with a clear message instead of as lost publishes later.
 */
import {
  JetStreamApiCodes,
  JetStreamApiError,
  type JetStreamManager,
  type StreamConfig,
  type StreamInfo,
} from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import { StreamConfigError } from './errors.js';
import { NATS_SINK_DEFAULTS } from './nats-sink-options.js';

const STREAM_DEFAULTS = NATS_SINK_DEFAULTS.stream;

/** The stream the decisions go to; the defaults are `NATS_SINK_DEFAULTS.stream`'s. */
export interface DecisionStreamConfig {
  /** Stream name; default `CUBESTREAM_DECISIONS`. */
  name?: string;
  /** De-duplication window of `Nats-Msg-Id`, ms; must exceed the longest outage; default 120 000. */
  duplicateWindowMs?: number;
  /** Oldest message kept, ms; 0 = unlimited; default 86 400 000 (24 h). */
  maxAgeMs?: number;
  /** `file` (default) or `memory`. */
  storage?: 'file' | 'memory';
  /** Replicas in a cluster; default 1. */
  replicas?: number;
  /** Create the stream when missing (default true); false: only check it. */
  create?: boolean;
}

/** Default stream name. */
export const DEFAULT_DECISION_STREAM = STREAM_DEFAULTS.name;

/**
 * True when a stream subject `pattern` captures every subject of `subject` (itself possibly a
 * wildcard): `cubestream.>` and `>` cover `cubestream.decisions.>`; `cubestream.decisions.*` does not.
 */
export function subjectCovers(pattern: string, subject: string): boolean {
  const p = pattern.split('.');
  const s = subject.split('.');
  for (let i = 0; i < p.length; i++) {
    const token = p[i];
    if (token === '>') return i < s.length;
    const other = s[i];
    if (other === undefined || other === '>') return false;
    if (token !== '*' && token !== other) return false;
  }
  return p.length === s.length;
}

function isStreamNotFound(error: unknown): boolean {
  return error instanceof JetStreamApiError && error.code === JetStreamApiCodes.StreamNotFound;
}

/** A stream {@link ensureStream} makes sure of. */
export interface StreamSpec {
  readonly name: string;
  /** Create the stream when it is missing. */
  readonly create: boolean;
  /** The setting that turns creation off, named in the error (e.g. `stream.create`). */
  readonly createSetting: string;
  /** The subject a new stream captures (e.g. `cubestream.decisions.>`). */
  readonly createWith: string;
  /** Subjects an existing stream must cover (e.g. one camera's). */
  readonly required: readonly string[];
  /** The rest of a new stream's configuration (storage, limits, duplicate window). */
  readonly settings: Omit<Partial<StreamConfig>, 'name' | 'subjects'>;
}

/**
 * Makes sure a stream exists and covers `spec.required`: created with subjects
 * `[spec.createWith]` when missing (unless `create` is false). The one home of the look-up,
 * creation and subject check of the decisions stream and the frames stream.
 *
 * @throws {@link StreamConfigError} naming the stream (and its subjects) when it cannot be looked
 *   up or created (JetStream disabled, subjects owned by another stream), is missing with creation
 *   off, or exists with subjects that do not cover `required`
 */
export async function ensureStream(jsm: JetStreamManager, spec: StreamSpec): Promise<StreamInfo> {
  const { name, createWith } = spec;
  let info: StreamInfo;
  try {
    info = await jsm.streams.info(name);
  } catch (error) {
    if (!isStreamNotFound(error)) {
      throw new StreamConfigError(
        name,
        `cannot be looked up (is JetStream enabled on the server?): ${String(error)}`,
        { cause: error },
      );
    }
    if (!spec.create) {
      throw new StreamConfigError(
        name,
        `does not exist and ${spec.createSetting} is false; create it with subjects [${createWith}]`,
      );
    }
    try {
      return await jsm.streams.add({ ...spec.settings, name, subjects: [createWith] });
    } catch (addError) {
      throw new StreamConfigError(
        name,
        `cannot be created with subjects [${createWith}]: ${String(addError)}`,
        {
          cause: addError,
        },
      );
    }
  }
  const subjects = info.config.subjects ?? [];
  const missing = spec.required.filter(
    (subject) => !subjects.some((pattern) => subjectCovers(pattern, subject)),
  );
  if (missing.length > 0) {
    throw new StreamConfigError(
      name,
      `exists with subjects ${JSON.stringify(subjects)}, which do not cover ${missing.join(', ')}; add ${createWith} to it, delete it, or configure another stream name`,
    );
  }
  return info;
}

/**
 * Makes sure stream `config.name` exists and captures `subject` (e.g. `cubestream.decisions.>`).
 * Creates it when missing (unless `create: false`); throws {@link StreamConfigError} when it
 * exists with subjects that do not cover `subject`, or cannot be created (e.g. another stream
 * already owns the subjects, JetStream disabled).
 */
export function ensureDecisionStream(
  jsm: JetStreamManager,
  subject: string,
  config: DecisionStreamConfig = {},
): Promise<StreamInfo> {
  return ensureStream(jsm, {
    name: config.name ?? DEFAULT_DECISION_STREAM,
    create: config.create ?? STREAM_DEFAULTS.create,
    createSetting: 'stream.create',
    createWith: subject,
    required: [subject],
    settings: {
      duplicate_window: nanos(config.duplicateWindowMs ?? STREAM_DEFAULTS.duplicateWindowMs),
      max_age: nanos(config.maxAgeMs ?? STREAM_DEFAULTS.maxAgeMs),
      storage: config.storage ?? STREAM_DEFAULTS.storage,
      num_replicas: config.replicas ?? STREAM_DEFAULTS.replicas,
    },
  });
}
