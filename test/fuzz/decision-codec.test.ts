/**
 * Fuzz tests of the decision codec (`parseDecision` in connectors/codec/decision-json.ts, encoder
 * `encodeDecision` in src/core/decision.ts): any string, bytes or JSON value gives a Decision or
 * `InvalidDecisionError`, and valid decisions round-trip exactly.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidDecisionError, parseDecision } from '../../connectors/codec/decision-json.js';
import { DECISION_SCHEMA, type Decision, encodeDecision } from '../../src/core/decision.js';
import { cameraIdArb } from './frame-arbitraries.js';
import { expectNamedError, fuzzParameters, outcome } from './fuzz-settings.js';

const count = fc.maxSafeNat();
/** Finite, and not -0 (JSON writes -0 as 0). */
const finite = fc.double({ noNaN: true, noDefaultInfinity: true }).map((v) => (Object.is(v, -0) ? 0 : v));

const decisionArb: fc.Arbitrary<Decision> = fc.record({
  schema: fc.constant(DECISION_SCHEMA),
  cameraId: cameraIdArb,
  frameId: count,
  rowOffset: count,
  capturedAt: finite,
  decidedAt: finite,
  anomalous: fc.boolean(),
  anomalousPixels: count,
  pixels: count,
  maxScore: finite,
  threshold: finite,
  blobs: fc.array(fc.record({ x: count, y: count, w: count, h: count, area: count, maxScore: finite }), {
    maxLength: 4,
  }),
  modelVersion: fc.string({ maxLength: 20 }),
});

/** Parses, allowing only a Decision that encodes back to the same JSON, or InvalidDecisionError. */
function parseChecked(message: string | Uint8Array): Decision | InvalidDecisionError {
  const result = outcome(() => parseDecision(message));
  if (!result.ok) {
    expectNamedError(result.error, InvalidDecisionError);
    expect(result.error.message).toMatch(/^decision message: \S/);
    expect(result.error.field.length).toBeGreaterThan(0);
    return result.error;
  }
  expect(parseDecision(encodeDecision(result.value))).toEqual(result.value);
  return result.value;
}

/** A JSON value with one field of a valid decision replaced, removed or added. */
const editedDecision = fc
  .tuple(
    decisionArb,
    fc.constantFrom(
      'schema',
      'cameraId',
      'frameId',
      'rowOffset',
      'capturedAt',
      'decidedAt',
      'anomalous',
      'anomalousPixels',
      'pixels',
      'maxScore',
      'threshold',
      'blobs',
      'modelVersion',
      'extra',
      '__proto__',
    ),
    fc.option(
      fc.oneof(
        fc.jsonValue({ maxDepth: 3 }),
        fc.constantFrom(-1, 0.5, 2 ** 53, 1e308, '', '1', null, [{}], [{ x: -1 }]),
      ),
      { nil: undefined },
    ),
  )
  .map(([decision, key, value]) => {
    const json: Record<string, unknown> = JSON.parse(encodeDecision(decision));
    if (value === undefined) delete json[key];
    else Object.defineProperty(json, key, { value, enumerable: true, writable: true, configurable: true });
    return JSON.stringify(json);
  });

describe('fuzz: parseDecision', () => {
  it('valid decisions round-trip through encodeDecision, as text and as UTF-8 bytes', () => {
    fc.assert(
      fc.property(decisionArb, (decision) => {
        const text = encodeDecision(decision);
        expect(parseChecked(text)).toEqual(decision);
        expect(parseChecked(new TextEncoder().encode(text))).toEqual(decision);
      }),
      fuzzParameters(1000),
    );
  });

  it('arbitrary strings and bytes: a Decision or InvalidDecisionError', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.string({ unit: 'binary', maxLength: 200 }), fc.uint8Array({ maxLength: 200 })),
        (message) => {
          parseChecked(message);
        },
      ),
      fuzzParameters(2000),
    );
  });

  it('arbitrary JSON values: a Decision or InvalidDecisionError', () => {
    fc.assert(
      fc.property(fc.json({ maxDepth: 4 }), (text) => {
        parseChecked(text);
      }),
      fuzzParameters(1000),
    );
  });

  it('valid decisions with one field edited: a Decision or InvalidDecisionError naming a field', () => {
    fc.assert(
      fc.property(editedDecision, (text) => {
        parseChecked(text);
      }),
      fuzzParameters(2000),
    );
  });

  it('deeply nested JSON: InvalidDecisionError', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 50_000 }), fc.constantFrom('blobs', 'cameraId'), (depth, key) => {
        const nested = `${'['.repeat(depth)}${']'.repeat(depth)}`;
        expect(parseChecked(`{"schema":"${DECISION_SCHEMA}","${key}":${nested}}`)).toBeInstanceOf(
          InvalidDecisionError,
        );
        expect(parseChecked(nested)).toBeInstanceOf(InvalidDecisionError);
      }),
      fuzzParameters(20),
    );
  });
});
