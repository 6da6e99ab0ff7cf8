import { describe, expect, it } from 'vitest';
import { capturedAt } from '../../../../connectors/sources/genicam/acquisition-loop.js';

const MS = 1_000_000n;

describe('capturedAt: camera clock anchored to the host clock', () => {
  it('takes the first line at host time, later lines at host time + camera-clock delta', () => {
    const anchor = { hostNs: -1n, deviceNs: 0n };
    const host0 = 1_700_000_000_000n * MS;
    expect(capturedAt(anchor, 5_000n * MS, host0)).toBe(1_700_000_000_000);
    // 3.25 ms later on the camera clock; the host stamped it 0.4 ms later still (receive delay).
    expect(capturedAt(anchor, 5_000n * MS + 3_250_000n, host0 + 3_650_000n)).toBe(1_700_000_000_003.25);
  });

  it('re-anchors when the clocks drift apart by more than a second (camera clock reset)', () => {
    const anchor = { hostNs: -1n, deviceNs: 0n };
    const host0 = 1_700_000_000_000n * MS;
    capturedAt(anchor, 90_000n * MS, host0);
    // The camera's clock restarted from 0: anchored again on this line's host time.
    expect(capturedAt(anchor, 10n * MS, host0 + 500n * MS)).toBe(1_700_000_000_500);
    expect(capturedAt(anchor, 20n * MS, host0 + 511n * MS)).toBe(1_700_000_000_510);
  });

  it('uses host time for a camera without a clock (timestamp 0)', () => {
    const anchor = { hostNs: -1n, deviceNs: 0n };
    expect(capturedAt(anchor, 0n, 1_700_000_000_123n * MS)).toBe(1_700_000_000_123);
  });
});
