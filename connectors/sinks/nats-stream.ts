/**
 * Creates or checks the JetStream stream that stores decisions, so that a misconfigured stream
 * fails at start with a clear message instead of as lost publishes later.
 */
import {
  JetStreamApiCodes,
  JetStreamApiError,
  type JetStreamManager,
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

/**
 * Makes sure stream `config.name` exists and captures `subject` (e.g. `cubestream.decisions.>`).
 * Creates it when missing (unless `create: false`); throws {@link StreamConfigError} when it
 * exists with subjects that do not cover `subject`, or cannot be created (e.g. another stream
 * already owns the subjects, JetStream disabled).
 */
export async function ensureDecisionStream(
  jsm: JetStreamManager,
  subject: string,
  config: DecisionStreamConfig = {},
): Promise<StreamInfo> {
  const name = config.name ?? DEFAULT_DECISION_STREAM;
  let info: StreamInfo;
  try {
    info = await jsm.streams.info(name);
  } catch (error) {
    if (!isStreamNotFound(error)) {
      throw new StreamConfigError(
        name,
        `cannot be looked up (is JetStream enabled on the server?): ${String(error)}`,
        {
          cause: error,
        },
      );
    }
    if (!(config.create ?? STREAM_DEFAULTS.create)) {
      throw new StreamConfigError(
        name,
        `does not exist and stream.create is false; create it with subjects [${subject}]`,
      );
    }
    try {
      return await jsm.streams.add({
        name,
        subjects: [subject],
        duplicate_window: nanos(config.duplicateWindowMs ?? STREAM_DEFAULTS.duplicateWindowMs),
        max_age: nanos(config.maxAgeMs ?? STREAM_DEFAULTS.maxAgeMs),
        storage: config.storage ?? STREAM_DEFAULTS.storage,
        num_replicas: config.replicas ?? STREAM_DEFAULTS.replicas,
      });
    } catch (addError) {
      throw new StreamConfigError(name, `cannot be created with subjects [${subject}]: ${String(addError)}`, {
        cause: addError,
      });
    }
  }
  const subjects = info.config.subjects ?? [];
  if (!subjects.some((pattern) => subjectCovers(pattern, subject))) {
    throw new StreamConfigError(
      name,
      `exists with subjects ${JSON.stringify(subjects)}, which do not cover ${subject}; add that subject to it, delete it, or configure another stream name`,
    );
  }
  return info;
}
