/**
 * The acquisition settings of a line stream (besides the camera and its features), as a zod
 * schema: the one home of their defaults.
 */
import { z } from 'zod';

/** Acquisition settings of {@link openLineStream}, with their defaults. */
export const LineStreamSettingsSchema = z.strictObject({
  /** Aravis buffers queued on the stream, and slots of the ring that hands lines to the main thread. */
  buffers: z.number().int().min(2).max(4096).default(32),
  /** No buffer for this long while acquiring (free run) = the camera is lost, in ms. */
  lostAfterMs: z.number().int().min(200).default(3000),
  /** Reconnect backoff: first delay and cap, in ms (jittered, doubling). */
  backoff: z
    .strictObject({
      initialMs: z.number().int().positive().default(500),
      maxMs: z.number().int().positive().default(5000),
    })
    .default({ initialMs: 500, maxMs: 5000 }),
  /** Ask a GigE Vision camera to resend lost packets (ArvGvStream `packet-resend`). */
  packetResend: z.boolean().default(true),
});

/** Parsed {@link LineStreamSettingsSchema}: every setting present. */
export type LineStreamSettings = z.output<typeof LineStreamSettingsSchema>;

/** The defaults of {@link LineStreamSettingsSchema}. */
export const LINE_STREAM_DEFAULTS: LineStreamSettings = LineStreamSettingsSchema.parse({});

/** How often (ms) the worker wakes from `arv_stream_timeout_pop_buffer` to check for close and camera loss. */
export const POP_TIMEOUT_MS = 100;
