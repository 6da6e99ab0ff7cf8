import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { from, lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { decideAnomalies } from '../../operators/decide-anomalies.js';
import { REPO_ROOT, renderWireSchemas } from '../../scripts/generate-wire-schemas.js';
import { decisionSchema, encodeDecision } from '../../src/core/decision.js';
import { grid, thresholded } from '../operators/scored-frame-fixtures.js';

const DECISION_FILE = 'docs/schemas/decision.schema.json';

function committed(file: string): string {
  return readFileSync(path.join(REPO_ROOT, file), 'utf8');
}

/** A real decision: a 4x6 block with two blobs through `decideAnomalies`, encoded for the wire. */
async function encodedDecision(): Promise<string> {
  const picture = ['##....', '##...#', '.....#', '......'];
  const { scores, height, width } = grid(picture, 9.5, 0.25);
  const frame = thresholded(scores, 5, {
    cameraId: 'line-3',
    frameId: 41,
    rowOffset: 64,
    totalRows: 128,
    height,
    width,
  });
  const [decided] = await lastValueFrom(
    from([frame]).pipe(decideAnomalies({ modelVersion: 'demo-1', now: () => 1_764_921_600_123 }), toArray()),
  );
  if (decided === undefined) throw new Error('no decision');
  return encodeDecision(decided.decision);
}

describe('generated wire schemas (npm run docs:schemas)', () => {
  it.each([...renderWireSchemas()])('%s is committed as the script writes it', (file, text) => {
    expect(committed(file), `${file} is stale: run npm run docs:schemas`).toBe(text);
  });

  it('generates the decision schema from the zod schema of src/core/decision.ts', () => {
    const schema = JSON.parse(committed(DECISION_FILE));
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(schema.properties.schema.const).toBe('cubestream.decision/1');
    expect(Object.keys(schema.properties)).toEqual(Object.keys(decisionSchema.shape));
    expect(schema.additionalProperties).toBe(false);
  });
});

describe('docs/schemas/decision.schema.json', () => {
  const ajv = new Ajv2020({ strict: true, allErrors: true });
  const validate = ajv.compile(JSON.parse(committed(DECISION_FILE)));

  it('accepts a decision encoded by encodeDecision, whose fields come in the schema order', async () => {
    const message = JSON.parse(await encodedDecision());
    expect(validate(message), ajv.errorsText(validate.errors)).toBe(true);
    expect(message.blobs).toHaveLength(2);
    // An ordinary decision has every field but the two of the unknown verdict, in schema order.
    const fields = Object.keys(JSON.parse(committed(DECISION_FILE)).properties);
    expect(Object.keys(message)).toEqual(fields.filter((f) => f !== 'verdict' && f !== 'reason'));
    expect(fields.slice(-2)).toEqual(['verdict', 'reason']);
  });

  it('accepts the example of docs/wire-format.md §2', () => {
    const doc = committed('docs/wire-format.md');
    const example = /<!-- decision-example[^>]*-->\s*```json\n(.*)\n```/.exec(doc)?.[1];
    expect(example, 'the decision example block').toBeDefined();
    const message = JSON.parse(example ?? '');
    expect(validate(message), ajv.errorsText(validate.errors)).toBe(true);
    expect(decisionSchema.parse(message)).toEqual(message);
  });

  it('refuses what the decoder refuses', async () => {
    const good = JSON.parse(await encodedDecision());
    const bad: Record<string, unknown>[] = [
      { ...good, schema: 'cubestream.decision/2' },
      { ...good, frameId: -1 },
      { ...good, rowOffset: 1.5 },
      { ...good, cameraId: '' },
      { ...good, anomalous: 'true' },
      { ...good, extra: 1 },
      { ...good, blobs: [{ ...good.blobs[0], centroid: [1, 2] }] },
      Object.fromEntries(Object.entries(good).filter(([key]) => key !== 'threshold')),
    ];
    for (const message of bad) {
      expect(validate(message), JSON.stringify(message)).toBe(false);
      expect(decisionSchema.safeParse(message).success).toBe(false);
    }
  });
});
