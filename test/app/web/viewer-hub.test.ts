import { PNG } from 'pngjs';
import { afterEach, describe, expect, it } from 'vitest';
import { ViewerInputError } from '../../../src/app/web/viewer-errors.js';
import { ViewerHub, type ViewerHubOptions } from '../../../src/app/web/viewer-hub.js';
import type { ViewerEvent, ViewerStrip } from '../../../src/app/web/viewer-messages.js';
import { OptionError } from '../../../src/core/options.js';
import { colourAt, INFERNO } from '../../../src/report/colormap.js';
import { syntheticBlock } from './synthetic-viewer-stream.js';

/** A hub on a hand-driven clock, recording every event it emits. */
function hubWithClock(options: ViewerHubOptions = {}) {
  let now = 1_000_000;
  const events: ViewerEvent[] = [];
  const hub = new ViewerHub({ ...options, now: () => now });
  hub.subscribe((event) => events.push(event));
  return {
    hub,
    events,
    advance(ms: number) {
      now += ms;
    },
    strips: () => events.filter((e) => e.type === 'strip').map((e) => (e as { strip: ViewerStrip }).strip),
  };
}

function decodeDataUrl(url: string): PNG {
  expect(url.startsWith('data:image/png;base64,')).toBe(true);
  return PNG.sync.read(Buffer.from(url.slice('data:image/png;base64,'.length), 'base64'));
}

function pixel(png: PNG, x: number, y: number): number[] {
  const i = (y * png.width + x) * 4;
  return Array.from(png.data.subarray(i, i + 4));
}

const BODY = { x: 20, y: 3, w: 9, h: 5 };

describe('ViewerHub', () => {
  let hub: ViewerHub | undefined;
  afterEach(() => hub?.close());

  it('renders at most maxUpdatesPerSecond strips per camera and counts the rest', () => {
    const t = hubWithClock({ maxUpdatesPerSecond: 10 });
    hub = t.hub;
    const outcomes: string[] = [];
    for (let i = 0; i < 20; i++) {
      outcomes.push(t.hub.push(syntheticBlock({ index: i, height: 4, width: 16 })));
      t.advance(20); // 50 blocks/s
    }
    expect(outcomes.filter((o) => o === 'rendered')).toHaveLength(4);
    expect(outcomes[0]).toBe('rendered');
    expect(outcomes.slice(1, 5)).toEqual(['skipped', 'skipped', 'skipped', 'skipped']);
    const strips = t.strips();
    expect(strips.map((s) => s.seq)).toEqual([1, 2, 3, 4]);
    expect(strips.map((s) => s.skippedBefore)).toEqual([0, 4, 4, 4]);
    const status = t.hub.status('cam-a');
    expect(status).toMatchObject({ blocks: 20, frames: 5, stripsRendered: 4, stripsSkipped: 16 });
    // every block is in the series, rendered or not
    const points = t.hub.snapshot('cam-a')?.series ?? [];
    expect(points.reduce((n, p) => n + p.blocks, 0)).toBe(20);
  });

  it('gives anomalous blocks their own budget, and lists every anomaly', () => {
    const t = hubWithClock({ maxUpdatesPerSecond: 10 });
    hub = t.hub;
    expect(t.hub.push(syntheticBlock({ index: 0, height: 8, width: 32 }))).toBe('rendered');
    t.advance(10);
    expect(t.hub.push(syntheticBlock({ index: 1, height: 8, width: 32, anomaly: BODY }))).toBe('rendered');
    t.advance(10);
    expect(t.hub.push(syntheticBlock({ index: 2, height: 8, width: 32, anomaly: BODY }))).toBe('skipped');
    t.advance(10);
    expect(t.hub.push(syntheticBlock({ index: 3, height: 8, width: 32 }))).toBe('skipped');
    const status = t.hub.status('cam-a');
    expect(status?.anomalousBlocks).toBe(2);
    expect(status?.recentAnomalies.map((a) => [a.rowOffset, a.shown])).toEqual([
      [16, false],
      [8, true],
    ]);
    expect(status?.recentAnomalies[0]).toMatchObject({ blobs: 1, largestBlob: BODY.w * BODY.h });
  });

  it('keeps a bounded history of strips and series buckets', () => {
    const t = hubWithClock({ historyStrips: 5, seriesLength: 3, seriesBucketMs: 1000 });
    hub = t.hub;
    for (let i = 0; i < 12; i++) {
      const anomaly = i === 11 ? { x: 2, y: 1, w: 5, h: 2 } : undefined;
      t.hub.push(syntheticBlock({ index: i, height: 4, width: 16, anomaly }));
      t.advance(500);
    }
    const snapshot = t.hub.snapshot('cam-a');
    expect(snapshot?.strips.map((s) => s.seq)).toEqual([8, 9, 10, 11, 12]);
    expect(snapshot?.series).toHaveLength(3);
    const last = snapshot?.series[2];
    expect(last?.blocks).toBe(2);
    expect(last?.anomalousBlocks).toBe(1);
    // the synthetic scores flag exactly the body's 5x2 pixels, of 2 blocks x 64 pixels
    expect(last?.pixelRate).toBeCloseTo(10 / 128, 9);
    expect(last?.threshold).toBe(1);
  });

  it('lists cameras sorted, announces new ones once, and ignores cameras beyond maxCameras', () => {
    const t = hubWithClock({ maxCameras: 2 });
    hub = t.hub;
    t.hub.push(syntheticBlock({ cameraId: 'zeta', index: 0, height: 4, width: 8 }));
    t.hub.push(syntheticBlock({ cameraId: 'alpha', index: 0, height: 4, width: 12 }));
    t.hub.push(syntheticBlock({ cameraId: 'alpha', index: 1, height: 4, width: 12 }));
    expect(t.hub.push(syntheticBlock({ cameraId: 'third', index: 0, height: 4, width: 8 }))).toBe('ignored');
    expect(t.hub.cameras().map((c) => [c.cameraId, c.width, c.blocks])).toEqual([
      ['alpha', 12, 2],
      ['zeta', 8, 1],
    ]);
    const announcements = t.events.filter((e) => e.type === 'cameras');
    expect(announcements).toHaveLength(2);
    expect(t.hub.snapshot('third')).toBeUndefined();
  });

  it('renders a false-colour strip with the mask tinted and a heatmap on 0..2τ', () => {
    const t = hubWithClock();
    hub = t.hub;
    t.hub.push(syntheticBlock({ index: 0, height: 8, width: 32, anomaly: BODY, threshold: 1 }));
    const [strip] = t.strips();
    expect(strip).toBeDefined();
    if (strip === undefined) return;
    expect(strip).toMatchObject({
      imageWidth: 32,
      imageHeight: 8,
      decimation: 1,
      heatMax: 2,
      anomalous: true,
    });
    expect(strip.blobs).toEqual([expect.objectContaining({ x: BODY.x, y: BODY.y, w: BODY.w, h: BODY.h })]);
    const rgb = decodeDataUrl(strip.rgb);
    expect([rgb.width, rgb.height]).toEqual([32, 8]);
    const [r, g, b] = pixel(rgb, BODY.x + 2, BODY.y + 2);
    expect(r).toBeGreaterThan((g ?? 0) + 80);
    expect(r).toBeGreaterThan((b ?? 0) + 80);
    const [r0, g0, b0] = pixel(rgb, 2, 0); // grey belt outside the body
    expect(Math.abs((r0 ?? 0) - (g0 ?? 0))).toBeLessThan(40);
    expect(Math.abs((g0 ?? 0) - (b0 ?? 0))).toBeLessThan(40);
    const heat = decodeDataUrl(strip.heat);
    const { decided } = syntheticBlock({ index: 0, height: 8, width: 32, anomaly: BODY });
    const s = decided.scores[0] ?? 0;
    expect(pixel(heat, 0, 0).slice(0, 3)).toEqual([...colourAt(INFERNO, s / 2)]);
  });

  it('decimates wide frames so strips stay under maxStripWidth', () => {
    const t = hubWithClock({ maxStripWidth: 64 });
    hub = t.hub;
    t.hub.push(
      syntheticBlock({ index: 0, height: 8, width: 150, bands: 12, anomaly: { x: 90, y: 1, w: 3, h: 2 } }),
    );
    const [strip] = t.strips();
    expect(strip).toMatchObject({ decimation: 3, imageWidth: 50, imageHeight: 3, width: 150, rows: 8 });
    const rgb = decodeDataUrl(strip?.rgb ?? '');
    expect([rgb.width, rgb.height]).toEqual([50, 3]);
    // a cell holding any anomalous pixel is tinted: columns 90..92 -> cell 30, rows 1..2 -> cell 0
    const [r, g] = pixel(rgb, 30, 0);
    expect(r).toBeGreaterThan((g ?? 0) + 80);
    const heat = decodeDataUrl(strip?.heat ?? '');
    // the cell's highest score (>= 2.2 of the 2τ = 2 range) is at the top of the colormap
    expect(pixel(heat, 30, 0).slice(0, 3)).toEqual([...colourAt(INFERNO, 1)]);
  });

  it('keeps the colour stretch stable from block to block', () => {
    const t = hubWithClock({ stretchSmoothing: 0.1, maxUpdatesPerSecond: 1000 });
    hub = t.hub;
    const block = syntheticBlock({ index: 0, height: 8, width: 32 });
    t.hub.push(block);
    t.advance(10);
    // the same block, twice as bright: a per-block stretch would draw it identically
    const bright = {
      frame: { ...block.frame, frameId: 1, data: block.frame.data.map((v) => v * 2) },
      decided: { ...block.decided, frameId: 1, decision: { ...block.decided.decision, frameId: 1 } },
    };
    t.hub.push(bright);
    const [first, second] = t.strips().map((s) => decodeDataUrl(s.rgb));
    if (first === undefined || second === undefined) throw new Error('two strips expected');
    let brighter = 0;
    for (let i = 0; i < first.data.length; i += 4)
      if ((second.data[i] ?? 0) > (first.data[i] ?? 0)) brighter++;
    expect(brighter).toBeGreaterThan((first.data.length / 4) * 0.9);
  });

  it('uses band indices for RGB when wavelengths are unknown', () => {
    const t = hubWithClock();
    hub = t.hub;
    t.hub.push(syntheticBlock({ index: 0, height: 4, width: 8, units: 'index' }));
    expect(t.hub.status('cam-a')).toMatchObject({
      rgbBands: [45, 30, 15],
      rgbLabel: 'R band 45 · G band 30 · B band 15',
    });
    t.hub.push(syntheticBlock({ cameraId: 'nm', index: 0, height: 4, width: 8 }));
    expect(t.hub.status('nm')?.rgbLabel).toBe('R 638 nm · G 550 nm · B 462 nm');
  });

  it('merges setStatus and statusProvider counters, and measures latency p99 itself', () => {
    let provided = 7;
    const t = hubWithClock({
      statusProvider: (camera) => (camera === 'cam-a' ? { queueDepth: provided } : undefined),
    });
    hub = t.hub;
    t.hub.setStatus('cam-a', { backend: 'wasm', drops: 1 });
    for (let i = 0; i < 10; i++) t.hub.push(syntheticBlock({ index: i, height: 2, width: 4 }));
    // synthetic decidedAt - capturedAt = 4 + (index % 10) ms: p99 of 4..13 is 13
    expect(t.hub.status('cam-a')).toMatchObject({
      backend: 'wasm',
      drops: 1,
      queueDepth: 7,
      latencyP99Ms: 13,
      modelVersion: 'synthetic-1',
    });
    t.hub.setStatus('cam-a', { drops: 5, latencyP99Ms: 42.5 });
    provided = 9;
    expect(t.hub.status('cam-a')).toMatchObject({
      backend: 'wasm',
      drops: 5,
      latencyP99Ms: 42.5,
      queueDepth: 9,
    });
  });

  it('sends a throttled status update later, once', async () => {
    hub = new ViewerHub({ maxUpdatesPerSecond: 4 });
    const statuses: number[] = [];
    let resolveLate: () => void = () => undefined;
    const late = new Promise<void>((resolve) => {
      resolveLate = resolve;
    });
    hub.subscribe((event) => {
      if (event.type !== 'status') return;
      statuses.push(event.status.blocks);
      if (event.status.blocks === 3) resolveLate();
    });
    for (let i = 0; i < 3; i++) hub.push(syntheticBlock({ index: i, height: 2, width: 4 }));
    expect(statuses).toEqual([1]);
    await late;
    expect(statuses).toEqual([1, 3]);
  });

  it('rejects a decision that does not belong to the frame, naming the field', () => {
    hub = new ViewerHub();
    const a = syntheticBlock({ index: 0, height: 4, width: 8 });
    const b = syntheticBlock({ cameraId: 'other', index: 0, height: 4, width: 8 });
    expect(() => hub?.push({ frame: a.frame, decided: b.decided })).toThrow(ViewerInputError);
    expect(() => hub?.push({ frame: a.frame, decided: b.decided })).toThrow(/decided\.cameraId/);
    const shortMask = { ...a.decided, mask: new Uint8Array(3) };
    expect(() => hub?.push({ frame: a.frame, decided: shortMask })).toThrow(
      /decided\.mask: has 3 values, expected 4x8 = 32/,
    );
    expect(hub.cameras()).toEqual([]);
  });

  it('rejects options out of range, naming them', () => {
    expect(() => new ViewerHub({ historyStrips: 0 })).toThrow(OptionError);
    expect(() => new ViewerHub({ maxUpdatesPerSecond: -1 })).toThrow(/maxUpdatesPerSecond = -1/);
    expect(() => new ViewerHub({ stretchSmoothing: 2 })).toThrow(/stretchSmoothing/);
  });

  it('ignores pushes after close and notifies nobody', () => {
    const t = hubWithClock();
    t.hub.close();
    expect(t.hub.push(syntheticBlock({ index: 0, height: 2, width: 4 }))).toBe('ignored');
    expect(t.events).toEqual([]);
  });
});
