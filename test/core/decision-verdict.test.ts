import { describe, expect, it } from 'vitest';
import { parseDecision } from '../../connectors/codec/decision-json.js';
import { encodeDecision, undecidedDecision, verdictOf } from '../../src/core/decision.js';

const block = { cameraId: 'cam0', frameId: 7, rowOffset: 64, capturedAt: 1_764_921_600_000 };

describe('the unknown verdict (fail safe)', () => {
  it('is anomalous with no pixels judged, carries the reason, and survives the wire', () => {
    const d = undecidedDecision(
      block,
      'dropped:queue_full_oldest',
      0.06,
      'demo-lentils-2',
      1_764_921_600_050,
    );
    expect(d).toMatchObject({ verdict: 'unknown', anomalous: true, pixels: 0, blobs: [], threshold: 0.06 });
    const text = encodeDecision(d!);
    expect(text.endsWith(',"verdict":"unknown","reason":"dropped:queue_full_oldest"}')).toBe(true);
    expect(parseDecision(text)).toEqual(d);
    expect(verdictOf(d!)).toBe('unknown');
  });

  it('leaves ordinary decisions without the two fields, their verdict from anomalous', () => {
    const d = undecidedDecision(block, 'x', 1, 'v', 0)!;
    const { verdict: _v, reason: _r, ...decided } = d;
    expect(encodeDecision({ ...decided, anomalous: false })).not.toContain('verdict');
    expect(verdictOf({ ...decided, anomalous: false })).toBe('normal');
    expect(verdictOf(decided)).toBe('anomalous');
  });

  it('makes none for a block whose identity cannot make a valid message (only dead-lettered then)', () => {
    expect(undecidedDecision({ ...block, cameraId: 'bad/id' }, 'rejected:camera', 1, 'v', 0)).toBeUndefined();
    expect(undecidedDecision({ ...block, frameId: -1 }, 'rejected:metadata', 1, 'v', 0)).toBeUndefined();
    expect(undecidedDecision(block, 'r'.repeat(500), 1, 'v', 0)?.reason).toHaveLength(128);
  });
});
