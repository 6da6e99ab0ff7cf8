import { afterEach, describe, expect, it } from 'vitest';
import { renderStrip } from '../../../src/app/web/strip-renderer.js';
import { ViewerHub } from '../../../src/app/web/viewer-hub.js';
import type { ViewerEvent, ViewerStrip } from '../../../src/app/web/viewer-messages.js';
import { WorkerStripRenderer } from '../../../src/app/web/worker-strip-renderer.js';
import { syntheticBlock } from './synthetic-viewer-stream.js';

let renderer: WorkerStripRenderer | undefined;
afterEach(async () => {
  await renderer?.close();
  renderer = undefined;
});

const BOUNDS = [
  [0, 1],
  [0, 1],
  [0, 1],
] as const;

/** A strip request of a synthetic block: bands 40, 25, 10 as RGB, heat up to 2, at most 640 px wide. */
function stripInput(block: Pick<ReturnType<typeof syntheticBlock>, 'frame' | 'decided'>) {
  return { ...block, rgbBands: [40, 25, 10] as const, bounds: BOUNDS, heatMax: 2, maxWidth: 640 };
}

describe('WorkerStripRenderer', () => {
  it('renders on a worker thread the same PNG bytes as renderStrip, decimated or not', async () => {
    renderer = new WorkerStripRenderer();
    for (const width of [128, 1300]) {
      const { frame, decided } = syntheticBlock({
        index: 0,
        height: 16,
        width,
        anomaly: { x: 20, y: 3, w: 9, h: 5 },
      });
      const input = stripInput({ frame, decided });
      const here = renderStrip(input);
      const there = await renderer.render(input);
      expect(there.decimation).toBe(width > 640 ? 3 : 1);
      expect([there.imageWidth, there.imageHeight, there.decimation]).toEqual([
        here.imageWidth,
        here.imageHeight,
        here.decimation,
      ]);
      expect(Buffer.compare(there.rgbPng, here.rgbPng)).toBe(0);
      expect(Buffer.compare(there.heatPng, here.heatPng)).toBe(0);
    }
  });

  it('feeds a hub: pushes return at once, strips join the history and reach subscribers in push order', async () => {
    renderer = new WorkerStripRenderer();
    const worker = renderer;
    let now = 1_000_000;
    const strips = (events: ViewerEvent[]) =>
      events.filter((e) => e.type === 'strip').map((e) => (e as { strip: ViewerStrip }).strip);
    const sync = new ViewerHub({ now: () => now });
    const syncEvents: ViewerEvent[] = [];
    sync.subscribe((e) => syncEvents.push(e));
    const async = new ViewerHub({ now: () => now, renderer: (input) => worker.render(input) });
    const asyncEvents: ViewerEvent[] = [];
    async.subscribe((e) => asyncEvents.push(e));
    for (let i = 0; i < 5; i++) {
      const block = syntheticBlock({ index: i, height: 8, width: 64 });
      expect(sync.push(block)).toBe('rendered');
      expect(async.push(block)).toBe('rendered');
      now += 200;
    }
    expect(strips(asyncEvents)).toHaveLength(0); // still on the worker
    for (let i = 0; i < 1000 && strips(asyncEvents).length < 5; i++)
      await new Promise((r) => setTimeout(r, 10));
    expect(strips(asyncEvents)).toEqual(strips(syncEvents));
    expect(async.snapshot('cam-a')?.strips).toEqual(sync.snapshot('cam-a')?.strips);
    sync.close();
    async.close();
  });

  it('close lets the renders in flight finish before it stops the worker (not terminated mid-deflate)', async () => {
    renderer = new WorkerStripRenderer();
    const input = stripInput(syntheticBlock({ index: 0, height: 16, width: 512 }));
    const inFlight = [renderer.render(input), renderer.render(input)];
    await renderer.close();
    const strips = await Promise.all(inFlight);
    expect(strips.map((s) => s.rgbPng.byteLength > 0 && s.heatPng.byteLength > 0)).toEqual([true, true]);
    await expect(renderer.render(input)).rejects.toThrow(/closed/);
  });

  it('rejects renders once closed, and reports a failed render to the hub’s onRenderError', async () => {
    renderer = new WorkerStripRenderer();
    const block = syntheticBlock({ index: 0, height: 4, width: 16 });
    const input = { ...block, rgbBands: [0, 1, 2] as const, bounds: BOUNDS, heatMax: 1, maxWidth: 640 };
    await renderer.close();
    await expect(renderer.render(input)).rejects.toThrow(/closed/);
    const errors: unknown[] = [];
    const closed = renderer;
    const hub = new ViewerHub({ renderer: (i) => closed.render(i), onRenderError: (e) => errors.push(e) });
    expect(hub.push(block)).toBe('rendered');
    await new Promise((r) => setTimeout(r, 10));
    expect(errors).toHaveLength(1);
    expect(hub.snapshot('cam-a')?.strips).toEqual([]);
    hub.close();
  });
});
