/**
 * The capture sink on a temp dir: which blocks it saves (anomalous ones, a sample of normal ones,
 * never `unknown` ones), that it copies a block before its buffer goes back, what a capture holds
 * (cube, predicted mask, scores, decision, metadata) and that `cubestream train`'s dataset loader
 * takes its folders as they are, and how it drops (full queue, no spectra, too large, write
 * errors) and counts.
 */
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  CAPTURE_FILES,
  type CaptureMetadata,
  decodeCaptureScores,
  estimateCaptureBytes,
} from '../../../connectors/sinks/capture/capture-files.js';
import {
  type CaptureSettingsInput,
  CaptureSettingsSchema,
} from '../../../connectors/sinks/capture/capture-options.js';
import { CaptureSink } from '../../../connectors/sinks/capture/capture-sink.js';
import { DECISION_SCHEMA, type DecidedFrame, type Decision } from '../../../src/core/decision.js';
import { readEnviCube, readEnviHeader, readEnviMask } from '../../../src/io/envi/index.js';
import { createLogger } from '../../../src/telemetry/logger.js';
import { createMetrics } from '../../../src/telemetry/metrics.js';
import { discoverDatasetItems, openDataset } from '../../../src/train/dataset.js';

const logger = createLogger({ level: 'silent' });
const WAVELENGTHS = Float32Array.from([450, 550, 650]);

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cubestream-capture-sink-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface BlockOptions {
  readonly verdict: 'anomalous' | 'normal' | 'unknown';
  readonly frameId?: number;
  readonly cameraId?: string;
  readonly height?: number;
  readonly width?: number;
  /** Spectra as whole counts (default) or fractions. */
  readonly fractional?: boolean;
  readonly spectra?: boolean;
}

/** A decided block of 4 x 5 pixels x 3 bands; its spectra are a buffer the test can overwrite. */
function block(options: BlockOptions): DecidedFrame {
  const { verdict, frameId = 1, cameraId = 'cam0', height = 4, width = 5 } = options;
  const pixels = height * width;
  const data = Float32Array.from({ length: pixels * 3 }, (_, i) =>
    options.fractional === true ? 0.25 + i / 1000 : 100 + ((i * 37) % 4000),
  );
  const scores = Float32Array.from({ length: pixels }, (_, i) => (i === 7 ? 2.5 : 0.01 * i));
  const threshold = 1;
  const mask = Uint8Array.from(scores, (s) => (s >= threshold ? 1 : 0));
  const decision: Decision = {
    schema: DECISION_SCHEMA,
    cameraId,
    frameId,
    rowOffset: 64,
    capturedAt: 1_767_268_800_000 + frameId,
    decidedAt: 1_767_268_800_050 + frameId,
    anomalous: verdict !== 'normal',
    anomalousPixels: verdict === 'anomalous' ? 1 : 0,
    pixels: verdict === 'unknown' ? 0 : pixels,
    maxScore: 2.5,
    threshold,
    blobs: verdict === 'anomalous' ? [{ x: 2, y: 65, w: 1, h: 1, area: 1, maxScore: 2.5 }] : [],
    modelVersion: 'capture-test-1',
    ...(verdict === 'unknown' ? { verdict: 'unknown' as const, reason: 'dropped:queue_full_oldest' } : {}),
  };
  return {
    cameraId,
    frameId,
    rowOffset: 64,
    totalRows: 640,
    capturedAt: decision.capturedAt,
    timings: {},
    height,
    width,
    radiometry: 'counts',
    scores,
    modelVersion: 'capture-test-1',
    threshold,
    mask,
    decision,
    missingRows: 0,
    ...(options.spectra === false
      ? {}
      : { spectra: { data, bands: 3, wavelengths: WAVELENGTHS, wavelengthUnits: 'nm' as const } }),
  };
}

function sinkWith(settings: Omit<CaptureSettingsInput, 'dir'>, root = dir) {
  const metrics = createMetrics({ defaultMetrics: false });
  const sink = new CaptureSink(CaptureSettingsSchema.parse({ dir: root, ...settings }), {
    logger,
    metrics,
    cameraIds: ['cam0'],
    sweepIntervalMs: 0,
  });
  return { sink, metrics };
}

async function metricValue(
  metrics: ReturnType<typeof createMetrics>,
  name: string,
  labels: Record<string, string> = {},
): Promise<number | undefined> {
  const metric = metrics.registry.getSingleMetric(name);
  const { values } = await (
    metric as unknown as { get(): Promise<{ values: { labels: object; value: number }[] }> }
  ).get();
  return values.find((v) =>
    Object.entries(labels).every(([k, l]) => (v.labels as Record<string, unknown>)[k] === l),
  )?.value;
}

async function captureFolders(kind: 'normal' | 'review', camera = 'cam0'): Promise<string[]> {
  try {
    return (await readdir(join(dir, kind, camera))).sort().map((name) => join(dir, kind, camera, name));
  } catch {
    return [];
  }
}

describe('CaptureSink', () => {
  it('saves an anomalous block for review: cube (uint16, wavelengths, identity), predicted mask, scores, decision', async () => {
    const { sink, metrics } = sinkWith({ normalSample: 0 });
    await sink.open();
    const decided = block({ verdict: 'anomalous', frameId: 42 });
    const original = decided.spectra?.data.slice() as Float32Array;
    expect(sink.offer(decided)).toBe('queued');
    // The source refills the buffer as soon as it is released: the capture must not see that.
    decided.spectra?.data.fill(9);
    await sink.idle();

    const [folder, ...others] = await captureFolders('review');
    expect(others).toEqual([]);
    expect(folder).toMatch(/review\/cam0\/20260101T120000042Z-f000042-r0064$/);
    const cubePath = join(folder as string, CAPTURE_FILES.cube);
    const cube = await readEnviCube(cubePath);
    expect(cube).toMatchObject({ lines: 4, samples: 5, bands: 3, wavelengthUnits: 'nm' });
    expect(cube.header.dataType).toBe(12);
    expect(cube.header.radiometry).toBe('counts');
    expect(cube.data).toEqual(original);
    expect(cube.wavelengths).toEqual(WAVELENGTHS);
    expect(cube.header.fields).toMatchObject({
      'cubestream camera id': 'cam0',
      'cubestream frame id': '42',
      'cubestream row offset': '64',
      'cubestream total rows': '640',
      'cubestream captured at': '1767268800042',
      'acquisition time': '2026-01-01T12:00:00.042Z',
      'cubestream model version': 'capture-test-1',
      'cubestream verdict': 'anomalous',
    });

    const maskPath = join(folder as string, CAPTURE_FILES.predictedMask);
    expect(Array.from(await readEnviMask(maskPath))).toEqual(Array.from(decided.mask));
    expect((await readEnviHeader(maskPath)).fields['cubestream label source']).toBe('predicted');
    const scores = decodeCaptureScores(await readFile(join(folder as string, CAPTURE_FILES.scores)));
    expect(scores).toEqual(decided.scores);
    const decision = JSON.parse(
      await readFile(join(folder as string, CAPTURE_FILES.decision), 'utf8'),
    ) as Decision;
    expect(decision).toEqual(decided.decision);
    const meta = JSON.parse(
      await readFile(join(folder as string, CAPTURE_FILES.metadata), 'utf8'),
    ) as CaptureMetadata;
    expect(meta).toMatchObject({
      schema: 'cubestream.capture/1',
      kind: 'anomalous',
      cameraId: 'cam0',
      frameId: 42,
      capturedAt: 1_767_268_800_042,
      modelVersion: 'capture-test-1',
      cube: { dataType: 'uint16', lines: 4, samples: 5, bands: 3 },
      scores: { file: 'scores.f32', dtype: 'float32', lines: 4, samples: 5 },
      label: { file: 'predicted_mask.hdr', source: 'predicted', groundTruth: false },
    });

    expect(
      await metricValue(metrics, 'cubestream_captures_total', { camera: 'cam0', kind: 'anomalous' }),
    ).toBe(1);
    expect(await metricValue(metrics, 'cubestream_captures_total', { camera: 'cam0', kind: 'normal' })).toBe(
      0,
    );
    expect(await metricValue(metrics, 'cubestream_capture_bytes')).toBe(sink.bytes);
    expect(sink.bytes).toBeGreaterThan(4 * 5 * 3 * 2);
    await sink.close();
  });

  it('keeps fractional spectra (reflectance, repaired values) exactly, as float32', async () => {
    const { sink } = sinkWith({});
    await sink.open();
    const decided = block({ verdict: 'anomalous', fractional: true });
    sink.offer(decided);
    await sink.idle();
    const [folder] = await captureFolders('review');
    const cube = await readEnviCube(join(folder as string, CAPTURE_FILES.cube));
    expect(cube.header.dataType).toBe(4);
    expect(cube.data).toEqual(decided.spectra?.data);
    await sink.close();
  });

  it('samples normal blocks at normalSample with its seed, and never saves unknown ones', async () => {
    const all = sinkWith({ normalSample: 1 });
    await all.sink.open();
    expect(all.sink.offer(block({ verdict: 'normal', frameId: 1 }))).toBe('queued');
    expect(all.sink.offer(block({ verdict: 'unknown', frameId: 2 }))).toBe('skipped');
    await all.sink.close();
    expect(await captureFolders('normal')).toHaveLength(1);
    expect(await captureFolders('review')).toHaveLength(0);

    const none = sinkWith({ normalSample: 0, anomalous: false });
    expect(none.sink.offer(block({ verdict: 'normal' }))).toBe('skipped');
    expect(none.sink.offer(block({ verdict: 'anomalous' }))).toBe('skipped');

    // A tenth, drawn from the seeded generator: the same seed picks the same blocks.
    const picks = async (seed: number, run: number): Promise<number[]> => {
      const { sink } = sinkWith(
        { normalSample: 0.1, seed, queueSize: 1024 },
        join(dir, `seed-${seed}-${run}`),
      );
      await sink.open();
      const picked: number[] = [];
      for (let i = 0; i < 400; i++) {
        if (sink.offer(block({ verdict: 'normal', frameId: i, height: 1, width: 1 })) === 'queued')
          picked.push(i);
      }
      await sink.close();
      return picked;
    };
    const first = await picks(7, 0);
    expect(first.length).toBeGreaterThan(15);
    expect(first.length).toBeLessThan(70);
    expect(await picks(7, 1)).toEqual(first);
    expect(await picks(8, 0)).not.toEqual(first);
  });

  it('gives train a folder it takes as it is: normal captures are training cubes, predicted masks are never ground truth', async () => {
    const { sink } = sinkWith({ normalSample: 1 });
    await sink.open();
    for (let frameId = 1; frameId <= 3; frameId++) sink.offer(block({ verdict: 'normal', frameId }));
    sink.offer(block({ verdict: 'anomalous', frameId: 4 }));
    await sink.close();

    const normal = join(dir, 'normal', 'cam0');
    const items = await discoverDatasetItems(normal);
    expect(items.map((item) => item.name)).toEqual([
      '20260101T120000001Z-f000001-r0064',
      '20260101T120000002Z-f000002-r0064',
      '20260101T120000003Z-f000003-r0064',
    ]);
    expect(items.every((item) => item.mask === undefined && item.cube.endsWith('cube.hdr'))).toBe(true);
    const dataset = await openDataset(normal, { split: { val: 0, test: 0 } });
    expect(dataset.splits.train).toHaveLength(3);
    expect(dataset.input).toMatchObject({ bands: 3, wavelengthUnits: 'nm', radiometry: 'counts' });
    // The review folder reads too, and its predicted masks are not taken for labels.
    const review = await discoverDatasetItems(join(dir, 'review'));
    expect(review.map((item) => [item.name, item.mask])).toEqual([
      ['cam0/20260101T120000004Z-f000004-r0064', undefined],
    ]);
  });

  it('drops what finds the queue full, counts it, and never waits', async () => {
    const { sink, metrics } = sinkWith({ queueSize: 2 });
    await sink.open();
    const offers = [1, 2, 3, 4].map((frameId) => sink.offer(block({ verdict: 'anomalous', frameId })));
    expect(offers).toEqual(['queued', 'queued', 'dropped', 'dropped']);
    expect(sink.pending).toBe(2);
    await sink.idle();
    expect(sink.pending).toBe(0);
    expect(await captureFolders('review')).toHaveLength(2);
    expect(
      await metricValue(metrics, 'cubestream_capture_dropped_total', {
        camera: 'cam0',
        reason: 'queue_full',
      }),
    ).toBe(2);
    // Room again once written.
    expect(sink.offer(block({ verdict: 'anomalous', frameId: 5 }))).toBe('queued');
    await sink.close();
  });

  it('drops blocks without spectra (assembled frames) and captures too large for the budget', async () => {
    const { sink, metrics } = sinkWith({ maxBytes: 1_000 });
    await sink.open();
    expect(sink.offer(block({ verdict: 'anomalous', spectra: false }))).toBe('dropped');
    expect(sink.offer(block({ verdict: 'anomalous' }))).toBe('queued');
    await sink.close();
    expect(await captureFolders('review')).toEqual([]);
    expect(
      await metricValue(metrics, 'cubestream_capture_dropped_total', {
        camera: 'cam0',
        reason: 'no_spectra',
      }),
    ).toBe(1);
    expect(
      await metricValue(metrics, 'cubestream_capture_dropped_total', { camera: 'cam0', reason: 'too_large' }),
    ).toBe(1);
  });

  it('counts a write the file system refuses and leaves nothing half-written behind', async () => {
    const { sink, metrics } = sinkWith({});
    await sink.open();
    await writeFile(join(dir, 'review'), 'a file where the review folder should be');
    sink.offer(block({ verdict: 'anomalous' }));
    await sink.idle();
    expect(
      await metricValue(metrics, 'cubestream_capture_dropped_total', {
        camera: 'cam0',
        reason: 'write_error',
      }),
    ).toBe(1);
    expect(await readdir(join(dir, '.incoming'))).toEqual([]);
    expect(sink.captures()).toEqual([]);
    // The sink goes on: the next block is written.
    await rm(join(dir, 'review'));
    sink.offer(block({ verdict: 'anomalous', frameId: 2 }));
    await sink.close();
    expect(await captureFolders('review')).toHaveLength(1);
  });

  it('holds the disk budget as it writes, deleting the oldest captures and counting them', async () => {
    const probe = sinkWith({}, join(dir, 'probe'));
    await probe.sink.open();
    probe.sink.offer(block({ verdict: 'anomalous' }));
    await probe.sink.close();
    const oneCapture = probe.sink.bytes;

    // Room for two captures and the headroom a write reserves first (its estimate), not for three.
    const maxBytes = 2 * oneCapture + estimateCaptureBytes({ height: 4, width: 5, bands: 3 }) - 1;
    const { sink, metrics } = sinkWith({ maxBytes }, join(dir, 'budget'));
    await sink.open();
    for (let frameId = 1; frameId <= 5; frameId++) {
      sink.offer(block({ verdict: 'anomalous', frameId }));
      await sink.idle();
      expect(sink.bytes).toBeLessThanOrEqual(maxBytes);
    }
    await sink.close();
    const left = (await readdir(join(dir, 'budget', 'review', 'cam0'))).sort();
    expect(left).toEqual(['20260101T120000004Z-f000004-r0064', '20260101T120000005Z-f000005-r0064']);
    expect(await metricValue(metrics, 'cubestream_capture_deleted_total', { reason: 'bytes' })).toBe(3);
    expect(await metricValue(metrics, 'cubestream_capture_deleted_total', { reason: 'age' })).toBe(0);

    // A restart on the same folder counts what is there.
    const restarted = sinkWith({ maxBytes }, join(dir, 'budget'));
    await restarted.sink.open();
    expect(restarted.sink.captures()).toHaveLength(2);
    expect(await metricValue(restarted.metrics, 'cubestream_capture_bytes')).toBe(sink.bytes);
    await restarted.sink.close();
  });

  it('names a second capture of the same block apart instead of overwriting it', async () => {
    const { sink } = sinkWith({});
    await sink.open();
    sink.offer(block({ verdict: 'anomalous', frameId: 3 }));
    sink.offer(block({ verdict: 'anomalous', frameId: 3 }));
    await sink.close();
    const names = (await captureFolders('review')).map((f) => f.split('/').at(-1));
    expect(names).toEqual(['20260101T120000003Z-f000003-r0064', '20260101T120000003Z-f000003-r0064-1']);
  });

  it('takes nothing after close', async () => {
    const { sink } = sinkWith({});
    await sink.open();
    await sink.close();
    expect(sink.offer(block({ verdict: 'anomalous' }))).toBe('skipped');
    expect(await captureFolders('review')).toEqual([]);
  });
});
