/**
 * Reads the decision JSON of docs/wire-format.md §2 back (consumers, tests, replay tools): parse, check every
 * field against the schema, and name the offending field when it does not fit. The encoder is
 * `encodeDecision` in src/core/decision.ts.
 */
import { type Decision, decisionSchema } from '../../src/core/decision.js';
import { CubestreamError } from '../../src/core/errors.js';

/** zod schema of a `cubestream.decision/1` message; defined in src/core/decision.ts. */
export { decisionSchema };

/** A decision message that is not valid JSON or does not fit the schema. */
export class InvalidDecisionError extends CubestreamError {
  /**
   * @param field - dotted path of the offending field (`$` for the whole message)
   * @param detail - what is wrong
   */
  constructor(
    readonly field: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super('decision', `decision message: ${field}: ${detail}`, options);
  }
}

/**
 * Parses and validates one decision message (string or UTF-8 bytes).
 *
 * @example
 * ```ts
 * declare const payload: Buffer; // an MQTT message on cubestream/+/decisions
 * const decision = parseDecision(payload); // throws InvalidDecisionError naming the field
 * ```
 */
export function parseDecision(message: string | Uint8Array): Decision {
  const text = typeof message === 'string' ? message : new TextDecoder().decode(message);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new InvalidDecisionError('$', `not JSON (${String(error)})`, { cause: error });
  }
  const result = decisionSchema.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0];
    const field = issue === undefined || issue.path.length === 0 ? '$' : issue.path.map(String).join('.');
    throw new InvalidDecisionError(field, issue?.message ?? 'invalid', { cause: result.error });
  }
  return result.data;
}
