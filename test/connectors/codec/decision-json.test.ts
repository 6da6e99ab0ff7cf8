import { describe, expect, it } from 'vitest';
import { InvalidDecisionError, parseDecision } from '../../../connectors/codec/decision-json.js';
import { encodeDecision } from '../../../src/core/decision.js';
import { makeDecision } from '../../helpers/decision-fixture.js';

describe('parseDecision', () => {
  it('reads back what encodeDecision writes', () => {
    const decision = makeDecision({ frameId: 3 });
    expect(decision.blobs).toHaveLength(1);
    expect(parseDecision(encodeDecision(decision))).toEqual(decision);
    expect(parseDecision(new TextEncoder().encode(encodeDecision(decision)))).toEqual(decision);
  });

  it('names the offending field', () => {
    const bad = { ...JSON.parse(encodeDecision(makeDecision({ frameId: 3 }))), frameId: -1 };
    expect(() => parseDecision(JSON.stringify(bad))).toThrow(/frameId/);
    const badBlob = JSON.parse(encodeDecision(makeDecision({ frameId: 3 })));
    badBlob.blobs[0].area = 'big';
    expect(() => parseDecision(JSON.stringify(badBlob))).toThrow(/blobs\.0\.area/);
    const wrongSchema = { ...JSON.parse(encodeDecision(makeDecision())), schema: 'other/1' };
    expect(() => parseDecision(JSON.stringify(wrongSchema))).toThrow(InvalidDecisionError);
    expect(() => parseDecision('{nope')).toThrow(/\$: not JSON/);
    const extra = { ...JSON.parse(encodeDecision(makeDecision())), extra: 1 };
    expect(() => parseDecision(JSON.stringify(extra))).toThrow(InvalidDecisionError);
  });
});
