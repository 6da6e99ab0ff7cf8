import { describe, expect, it } from 'vitest';
import { createFrame } from '../../src/core/frame.js';
import { OptionError } from '../../src/core/options.js';
import { PixelBatches } from '../../src/train/pixel-batches.js';

const BANDS = 3;

/** A frame whose pixel p of frame f holds [f, p, label]; labels cycle 0,1,2,3. */
function frame(f: number, pixels: number, withLabels = true) {
  const data = new Float32Array(pixels * BANDS);
  const labels = new Uint8Array(pixels);
  for (let p = 0; p < pixels; p++) {
    labels[p] = p % 4;
    data.set([f, p, p % 4], p * BANDS);
  }
  return createFrame({
    frameId: f,
    height: 1,
    width: pixels,
    bands: BANDS,
    data,
    ...(withLabels ? { labels } : {}),
  });
}

function collect(batches: PixelBatches, epoch: number): Float32Array[] {
  return [...batches.epoch(epoch)];
}

function identities(batches: Float32Array[]): string[] {
  return batches.flatMap((b) =>
    Array.from({ length: b.length / BANDS }, (_, i) => `${b[i * BANDS]}:${b[i * BANDS + 1]}`),
  );
}

describe('PixelBatches', () => {
  const frames = [frame(0, 10), frame(1, 7), frame(2, 5)];

  it('visits every pixel of every frame once per epoch, in batches of batchSize', () => {
    const batches = new PixelBatches(frames, { batchSize: 4, seed: 7 });
    expect(batches.pixelCount).toBe(22);
    expect(batches.batchesPerEpoch).toBe(6);
    const epoch = collect(batches, 0);
    expect(epoch.map((b) => b.length / BANDS)).toEqual([4, 4, 4, 4, 4, 2]);
    const seen = identities(epoch);
    expect(new Set(seen).size).toBe(22);
    expect(seen.filter((id) => id.startsWith('2:'))).toHaveLength(5);
    // Pixel values travel whole: band 2 is the label of pixel band 1.
    for (const b of epoch)
      for (let i = 0; i < b.length; i += BANDS) expect(b[i + 2]).toBe((b[i + 1] as number) % 4);
  });

  it('is reproducible: same seed and epoch -> same batches; epochs and seeds differ', () => {
    const a = new PixelBatches(frames, { batchSize: 5, seed: 11 });
    const b = new PixelBatches(frames, { batchSize: 5, seed: 11 });
    expect(collect(a, 3)).toEqual(collect(b, 3));
    expect(identities(collect(a, 0))).not.toEqual(identities(collect(a, 1)));
    expect(identities(collect(a, 0))).not.toEqual(
      identities(collect(new PixelBatches(frames, { batchSize: 5, seed: 12 }), 0)),
    );
  });

  it('keeps only normal classes where labels exist, all pixels of unlabelled frames', () => {
    const mixed = [frame(0, 8), frame(1, 4, false)];
    const batches = new PixelBatches(mixed, { batchSize: 100, normalClassIds: [0, 1] });
    const seen = identities(collect(batches, 0));
    expect(batches.pixelCount).toBe(4 + 4);
    for (const id of seen.filter((s) => s.startsWith('0:')))
      expect(Number(id.split(':')[1]) % 4).toBeLessThan(2);
    expect(seen.filter((s) => s.startsWith('1:'))).toHaveLength(4);
  });

  it('reservoir-samples maxPixels uniformly and reproducibly, and can drop the last batch', () => {
    const big = [frame(0, 500), frame(1, 500)];
    const a = new PixelBatches(big, { batchSize: 64, maxPixels: 300, seed: 5, dropLast: true });
    expect(a.pixelCount).toBe(300);
    expect(a.batchesPerEpoch).toBe(4);
    const epoch = collect(a, 0);
    expect(epoch.every((b) => b.length === 64 * BANDS)).toBe(true);
    const sources = Array.from({ length: 300 }, (_, i) => a.source(i));
    expect(new Set(sources.map((s) => `${s.frame}:${s.pixel}`)).size).toBe(300);
    // Both frames contribute about half (uniform over all 1000 eligible pixels).
    const fromSecond = sources.filter((s) => s.frame === 1).length;
    expect(fromSecond).toBeGreaterThan(110);
    expect(fromSecond).toBeLessThan(190);
    expect(sources).toEqual(
      Array.from({ length: 300 }, (_, i) =>
        new PixelBatches(big, { batchSize: 64, maxPixels: 300, seed: 5 }).source(i),
      ),
    );
  });

  it('names the option at fault', () => {
    expect(() => new PixelBatches([], { batchSize: 4 })).toThrow(/frames/);
    expect(() => new PixelBatches(frames, { batchSize: 0 })).toThrow(/batchSize = 0/);
    const other = createFrame({ height: 1, width: 2, bands: 4, data: new Float32Array(8) });
    expect(() => new PixelBatches([frames[0]!, other], { batchSize: 4 })).toThrow(/frames\[1\]\.bands = 4/);
    expect(() => new PixelBatches(frames, { batchSize: 4, normalClassIds: [9] })).toThrow(OptionError);
    expect(() => new PixelBatches(frames, { batchSize: 4 }).order(-1)).toThrow(/epoch/);
  });
});
