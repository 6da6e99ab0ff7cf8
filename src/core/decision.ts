import { z } from 'zod';
import { isCameraId } from './camera-id.js';
import type { ThresholdedFrame } from './scored-frame.js';

/** Value of the `schema` field of every decision message. */
export const DECISION_SCHEMA = 'cubestream.decision/1';

/** A non-negative integer count or pixel coordinate. */
const count = z.number().int().nonnegative();

/**
 * zod schema of a blob: a connected region of anomalous pixels. `x`, `y` are the top-left corner
 * of its bounding box in whole-frame coordinates (`y` includes the block's `rowOffset`), `w`, `h`
 * its size.
 */
export const blobSchema = z
  .strictObject({
    x: count.describe('Left column of the bounding box (pixels)'),
    y: count.describe("Top row of the bounding box in whole-frame rows (includes the block's rowOffset)"),
    w: count.describe('Width of the bounding box (pixels)'),
    h: count.describe('Height of the bounding box (rows)'),
    area: count.describe('Anomalous pixels in the blob'),
    maxScore: z.number().describe('Highest score inside the blob'),
  })
  .describe('A connected region of anomalous pixels');

/** A connected region of anomalous pixels (see {@link blobSchema}). */
export type Blob = z.infer<typeof blobSchema>;

/**
 * zod schema of the decision message of docs/wire-format.md §2, published as JSON to MQTT and NATS: the one
 * definition of the message (the {@link Decision} type, the decoder's check and the generated
 * `docs/schemas/decision.schema.json` all come from it). Flat and fixed so a PLC can parse it;
 * field order is kept by {@link encodeDecision}; unknown fields are rejected.
 */
export const decisionSchema = z
  .strictObject({
    schema: z.literal(DECISION_SCHEMA).describe('Message schema and version'),
    cameraId: z.string().min(1).describe('Camera that captured the frame'),
    frameId: count.describe('Frame number, monotonic per camera (restarts at 0 with the camera gateway)'),
    rowOffset: count.describe("Index of the block's first row within its frame (0 for a whole frame)"),
    capturedAt: z.number().describe('Capture time, epoch milliseconds, from the source'),
    decidedAt: z.number().describe('When the decision was made, epoch milliseconds'),
    anomalous: z.boolean().describe('Frame (or block) verdict'),
    anomalousPixels: count.describe('Pixels with score >= threshold'),
    pixels: count.describe('Pixels decided: height x width of the block, or the received pixels of a frame'),
    maxScore: z.number().describe('Highest pixel score'),
    threshold: z.number().describe('Score threshold τ applied (squared distance for Deep SVDD)'),
    blobs: z.array(blobSchema).describe('Connected regions of anomalous pixels, in raster order'),
    modelVersion: z.string().describe('Version of the model bundle that scored the frame'),
    verdict: z
      .literal('unknown')
      .optional()
      .describe(
        'Present only on a block that could not be decided (rejected, dropped by backpressure): anomalous is then true, so a PLC that reads only anomalous diverts the product',
      ),
    reason: z
      .string()
      .min(1)
      .max(128)
      .optional()
      .describe(
        'Why the block could not be decided, e.g. rejected:bands or dropped:queue_full_oldest (with verdict only)',
      ),
  })
  .meta({ title: 'cubestream decision', description: 'One decision per block (or assembled frame)' });

/** A decision message (see {@link decisionSchema}). */
export type Decision = z.infer<typeof decisionSchema>;

/**
 * A frame or block that carries its decision: the thresholded frame with its pixel mask
 * (1 = anomalous) and the decision message for it. What `decideAnomalies` and
 * `deepSvddPipeline` emit; it keeps the block's identity, so its `release` (a pooled source's
 * buffer, see `CubeFrame.release`) and `spectra` come with it.
 */
export interface DecidedFrame extends ThresholdedFrame {
  /** `height * width`, 1 where score >= threshold. */
  readonly mask: Uint8Array;
  readonly decision: Decision;
  /** Rows of the frame never received (an assembled frame flushed incomplete); 0 for blocks and complete frames. */
  readonly missingRows: number;
}

/** Serialises a decision as the compact JSON of docs/wire-format.md §2 (fields in schema order). */
export function encodeDecision(decision: Decision): string {
  const ordered: Decision = {
    schema: DECISION_SCHEMA,
    cameraId: decision.cameraId,
    frameId: decision.frameId,
    rowOffset: decision.rowOffset,
    capturedAt: decision.capturedAt,
    decidedAt: decision.decidedAt,
    anomalous: decision.anomalous,
    anomalousPixels: decision.anomalousPixels,
    pixels: decision.pixels,
    maxScore: decision.maxScore,
    threshold: decision.threshold,
    blobs: decision.blobs.map((b) => ({
      x: b.x,
      y: b.y,
      w: b.w,
      h: b.h,
      area: b.area,
      maxScore: b.maxScore,
    })),
    modelVersion: decision.modelVersion,
    ...(decision.verdict === undefined ? {} : { verdict: decision.verdict }),
    ...(decision.reason === undefined ? {} : { reason: decision.reason }),
  };
  return JSON.stringify(ordered);
}

/** The three verdicts a decision can carry: what a PLC acts on. */
export type Verdict = 'normal' | 'anomalous' | 'unknown';

/** A decision's verdict: `unknown` for an undecided block, else from `anomalous`. */
export function verdictOf(decision: Pick<Decision, 'anomalous' | 'verdict'>): Verdict {
  if (decision.verdict === 'unknown') return 'unknown';
  return decision.anomalous ? 'anomalous' : 'normal';
}

/** What {@link undecidedDecision} needs of a block that left the pipeline without a decision. */
export interface UndecidedBlock {
  readonly cameraId: string;
  readonly frameId: number;
  readonly rowOffset: number;
  readonly capturedAt: number;
}

/**
 * The fail-safe decision for a block that could not be decided (docs/wire-format.md §2): verdict
 * `unknown` with the reason, `anomalous: true` so that a PLC that reads only the verdict diverts
 * the product rather than letting it pass unseen, no pixels judged and no blobs. Returns
 * undefined when the block's identity cannot make a valid message (a bad camera id or frame id:
 * such a block is only dead-lettered and counted).
 *
 * @example
 * ```ts
 * const d = undecidedDecision(frame, 'dropped:queue_full_oldest', 0.06, 'demo-lentils-2', Date.now());
 * d?.verdict; // 'unknown'
 * ```
 */
export function undecidedDecision(
  block: UndecidedBlock,
  reason: string,
  threshold: number,
  modelVersion: string,
  decidedAt: number,
): Decision | undefined {
  const candidate = {
    schema: DECISION_SCHEMA,
    cameraId: block.cameraId,
    frameId: block.frameId,
    rowOffset: block.rowOffset,
    capturedAt: block.capturedAt,
    decidedAt,
    anomalous: true,
    anomalousPixels: 0,
    pixels: 0,
    maxScore: 0,
    threshold,
    blobs: [],
    modelVersion,
    verdict: 'unknown' as const,
    reason: reason.slice(0, 128),
  };
  if (!isCameraId(block.cameraId)) return undefined;
  const parsed = decisionSchema.safeParse(candidate);
  return parsed.success ? parsed.data : undefined;
}
