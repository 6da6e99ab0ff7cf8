/**
 * The `metrics` and `viewer` sections of the run configuration: where the HTTP endpoints listen,
 * their optional bearer token, and the viewer's limits (clients, bytes per client, snapshot size).
 * Defaults come from their one home: `DEFAULT_HTTP_HOST`, `DEFAULT_VIEWER_LIMITS`.
 */
import { z } from 'zod';
import { MIN_TOKEN_LENGTH } from '../http/bearer-token.js';
import { DEFAULT_HTTP_HOST } from '../http/listen.js';
import { DEFAULT_VIEWER_LIMITS } from '../web/viewer-limits.js';

const Port = z.number().int().min(0).max(65_535);
const PositiveInt = z.number().int().positive();

/** Port of /metrics, /healthz, /readyz unless configured. */
export const DEFAULT_METRICS_PORT = 9464;

/**
 * `metrics.auth`, `viewer.auth`: a bearer token, inline or read from a file at start (trimmed),
 * exactly one of the two.
 */
export const HttpAuthSchema = z
  .strictObject({
    /** The token itself (at least 16 characters). Prefer `tokenFile` (a mounted secret). */
    token: z.string().min(MIN_TOKEN_LENGTH).optional(),
    /** A file holding the token, read once at start; surrounding whitespace is ignored. */
    tokenFile: z.string().min(1).optional(),
  })
  .refine((auth) => (auth.token === undefined) !== (auth.tokenFile === undefined), {
    message: 'set exactly one of token or tokenFile',
  });

/** A validated `metrics.auth` / `viewer.auth`. */
export type HttpAuthConfig = z.output<typeof HttpAuthSchema>;

/** `metrics`: the telemetry endpoint. */
export const MetricsConfigSchema = z.strictObject({
  /** Port of /metrics, /healthz, /readyz; 0 picks a free one. */
  port: Port.default(DEFAULT_METRICS_PORT),
  /** Interface to bind: loopback by default; `0.0.0.0` to be scraped from elsewhere. */
  host: z.string().min(1).default(DEFAULT_HTTP_HOST),
  /** Bearer token required on /metrics (/healthz and /readyz stay open for probes). */
  auth: HttpAuthSchema.optional(),
});

/** `viewer`: the live viewer's server and its limits. */
export const ViewerConfigSchema = z
  .strictObject({
    enabled: z.boolean().default(true),
    /** Port of the live viewer; 0 picks a free one. */
    port: Port.default(8080),
    /** Interface to bind: loopback by default; `0.0.0.0` to be reached from elsewhere. */
    host: z.string().min(1).default(DEFAULT_HTTP_HOST),
    /** Token every viewer route requires (header, or the cookie the page sets from `?token=`). */
    auth: HttpAuthSchema.optional(),
    /** Open event streams at most; more get 503 with `Retry-After`. */
    maxClients: PositiveInt.default(DEFAULT_VIEWER_LIMITS.maxClients),
    /** Unsent bytes per client before it misses strips; twice this and it is disconnected. */
    clientBufferBytes: z
      .number()
      .int()
      .min(64 * 1024)
      .default(DEFAULT_VIEWER_LIMITS.clientBufferBytes),
    /** Newest strips in the snapshot a client gets on connect. */
    snapshotStrips: PositiveInt.default(DEFAULT_VIEWER_LIMITS.snapshotStrips),
    /** Bytes of that snapshot at most; at most `clientBufferBytes`. */
    snapshotBytes: PositiveInt.default(DEFAULT_VIEWER_LIMITS.snapshotBytes),
    /** TCP connections of the viewer server at most (further ones are closed at once). */
    maxConnections: PositiveInt.default(DEFAULT_VIEWER_LIMITS.maxConnections),
  })
  .refine((viewer) => viewer.snapshotBytes <= viewer.clientBufferBytes, {
    path: ['snapshotBytes'],
    message: 'must be at most clientBufferBytes',
  });
