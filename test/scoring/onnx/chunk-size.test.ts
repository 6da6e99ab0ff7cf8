import { describe, expect, it } from 'vitest';
import { defaultChunkPixels, earlyChunkPixels } from '../../../src/scoring/onnx/chunk-size.js';

describe('chunk sizes', () => {
  it('keeps a chunk near 2 MiB of input, 1,024 to 8,192 pixels', () => {
    expect(defaultChunkPixels(61, 2)).toBe(8192);
    expect(defaultChunkPixels(224, 2)).toBe(4096);
    expect(defaultChunkPixels(224, 4)).toBe(2048);
    expect(defaultChunkPixels(5000, 4)).toBe(1024);
  });

  it('cuts a block scored from early rows into about eight chunks, within the default', () => {
    expect(earlyChunkPixels(64 * 256, 61, 4)).toBe(2048); // the demo camera
    expect(earlyChunkPixels(64 * 1024, 224, 2)).toBe(4096); // FX10: the default bounds it
    expect(earlyChunkPixels(256, 61, 4)).toBe(1024); // a tiny block: one chunk
    expect(earlyChunkPixels(1080 * 1000, 61, 2)).toBe(8192);
  });
});
