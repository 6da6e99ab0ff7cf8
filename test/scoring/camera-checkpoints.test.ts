/**
 * A camera continued in another pipeline from a checkpoint decides exactly as one pipeline fed
 * every block: same scores (the online centre), same τ (the rolling window), on both scorers.
 */
import { from, lastValueFrom, Subject, toArray } from 'rxjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { deepSvddPipeline, type PipelineOptions } from '../../operators/deep-svdd-pipeline.js';
import type { DecidedFrame } from '../../src/core/decision.js';
import { type CubeFrame, createFrame } from '../../src/core/frame.js';
import { CameraCheckpoints, CheckpointRefusedError } from '../../src/scoring/camera-checkpoints.js';
import { initEngine } from '../../src/scoring/engine.js';
import { ScoreWindow } from '../../src/scoring/score-window.js';
import { tinyDeepSvddBundle, tinyFrame } from '../helpers/tiny-model.js';

beforeAll(async () => {
  await initEngine();
});

const BLOCK_ROWS = 8;

/** Frames of 16 rows as blocks of 8 (two per frame); frames 7 and 13 carry a foreign body. */
function blocks(frames: number): CubeFrame[] {
  return Array.from({ length: frames }, (_, i) => {
    const frame = tinyFrame({ frameId: i, ...(i % 6 === 1 ? { anomaly: { row: 4, col: 9, size: 3 } } : {}) });
    const perRow = frame.width * frame.bands;
    return [0, BLOCK_ROWS].map((rowOffset) =>
      createFrame({
        cameraId: frame.cameraId,
        frameId: frame.frameId,
        height: BLOCK_ROWS,
        width: frame.width,
        bands: frame.bands,
        wavelengths: frame.wavelengths,
        data: frame.data.slice(rowOffset * perRow, (rowOffset + BLOCK_ROWS) * perRow),
        rowOffset,
        totalRows: frame.height,
        capturedAt: frame.capturedAt,
      }),
    );
  }).flat();
}

function settings(scorer: 'tfjs' | 'onnx'): PipelineOptions {
  return {
    scorer,
    backpressure: { policy: 'block', capacity: 10_000 },
    threshold: { windowFrames: 4, minSamples: 64, margin: 1.2, sketch: 'exact' },
    center: { mode: 'ema', alpha: 0.05 },
  };
}

async function decide(input: CubeFrame[], options: PipelineOptions): Promise<DecidedFrame[]> {
  return lastValueFrom(from(input).pipe(deepSvddPipeline(tinyDeepSvddBundle(), options), toArray()));
}

describe.each(['tfjs', 'onnx'] as const)('camera checkpoints on %s', (scorer) => {
  it('a second pipeline restored from the checkpoint after block k decides blocks k+1.. as one pipeline', async () => {
    const all = blocks(12);
    const reference = await decide(all, settings(scorer));

    const first = new CameraCheckpoints({ everyBlocks: 5 });
    const taken: Uint8Array[] = [];
    first.listen((camera, bytes) => {
      expect(camera).toBe('cam0');
      taken.push(bytes);
    });
    await decide(all.slice(0, 13), { ...settings(scorer), checkpoints: first });
    expect(taken).toHaveLength(2); // after blocks 5 and 10: block index 9 (frame 4, second block)
    const last = taken[1] as Uint8Array;

    const second = new CameraCheckpoints({ everyBlocks: 5 });
    const restored = second.restore('cam0', last);
    expect(restored).toMatchObject({ camera: 'cam0', model: 'tiny-1', frameId: 4, rowOffset: 8, blocks: 10 });
    const continued = await decide(all.slice(10), { ...settings(scorer), checkpoints: second });

    const tail = reference.slice(10);
    expect(continued.map((d) => [d.frameId, d.rowOffset])).toEqual(tail.map((d) => [d.frameId, d.rowOffset]));
    expect(continued.map((d) => d.threshold)).toEqual(tail.map((d) => d.threshold));
    for (const [i, d] of continued.entries()) expect(d.scores, `block ${i + 10}`).toEqual(tail[i]?.scores);
    // The window had reached its own quantile: the τ continued, not the seed.
    expect(new Set(tail.map((d) => d.threshold)).size).toBeGreaterThan(1);

    // Without the checkpoint the same blocks decide differently (the test can fail).
    const fresh = await decide(all.slice(10), settings(scorer));
    expect(fresh.map((d) => d.threshold)).not.toEqual(tail.map((d) => d.threshold));
  });

  it('a mid-frame checkpoint continues the frame with the τ it started with', async () => {
    const all = blocks(8);
    const reference = await decide(all, settings(scorer));
    const first = new CameraCheckpoints({ everyBlocks: 7 });
    let bytes: Uint8Array | undefined;
    first.listen((_camera, b) => {
      bytes ??= b;
    });
    await decide(all.slice(0, 7), { ...settings(scorer), checkpoints: first });
    const second = new CameraCheckpoints({ everyBlocks: 0 });
    expect(second.restore('cam0', bytes)).toMatchObject({ frameId: 3, rowOffset: 0 });
    const continued = await decide(all.slice(7), { ...settings(scorer), checkpoints: second });
    expect(continued.map((d) => d.threshold)).toEqual(reference.slice(7).map((d) => d.threshold));
    expect(continued.map((d) => d.scores)).toEqual(reference.slice(7).map((d) => d.scores));
  });
});

describe('CameraCheckpoints refusals', () => {
  async function checkpointOf(options: PipelineOptions): Promise<Uint8Array> {
    const checkpoints = new CameraCheckpoints({ everyBlocks: 4 });
    let bytes: Uint8Array | undefined;
    checkpoints.listen((_c, b) => {
      bytes = b;
    });
    await decide(blocks(2), { ...options, checkpoints });
    if (bytes === undefined) throw new Error('no checkpoint');
    return bytes;
  }

  it('refuses bytes that are not a checkpoint, another camera’s, another model’s, or a window kept another way', async () => {
    const bytes = await checkpointOf(settings('tfjs'));
    const checkpoints = new CameraCheckpoints({ everyBlocks: 0 });
    deepSvddPipeline(tinyDeepSvddBundle(), { ...settings('tfjs'), checkpoints })(from([]));
    expect(() => checkpoints.restore('cam0', Buffer.from('{"schema":"x"}'))).toThrow(CheckpointRefusedError);
    expect(() => checkpoints.restore('cam9', bytes)).toThrow(
      /camera cam9: checkpoint not loaded: it is camera cam0's/,
    );
    const other = new CameraCheckpoints({ everyBlocks: 0 });
    deepSvddPipeline(tinyDeepSvddBundle(4, 'tiny-2'), { ...settings('tfjs'), checkpoints: other })(from([]));
    expect(() => other.restore('cam0', bytes)).toThrow(/taken with model tiny-1, this pipeline runs tiny-2/);

    const sketched = new CameraCheckpoints({ everyBlocks: 0 });
    const options = {
      ...settings('tfjs'),
      threshold: { ...settings('tfjs').threshold, sketch: 'ddsketch' as const },
    };
    const input = new Subject<CubeFrame>();
    const decided = lastValueFrom(
      input.pipe(deepSvddPipeline(tinyDeepSvddBundle(), { ...options, checkpoints: sketched }), toArray()),
    );
    expect(() => sketched.restore('cam0', bytes)).toThrow(/kept as exact .* this one as ddsketch/);
    // A refused checkpoint leaves the camera at the bundle's start, and the stream goes on.
    for (const block of blocks(1)) input.next(block);
    input.complete();
    expect((await decided).map((d) => d.frameId)).toEqual([0, 0]);
  });

  it('round-trips a ddsketch window exactly', () => {
    const window = new ScoreWindow({ frames: 3 }, 'ddsketch', 0.01);
    for (let f = 0; f < 4; f++) {
      window.openFrame(f, 1000 * f);
      window.add(
        Float32Array.from({ length: 500 }, (_, i) => ((i * 7919 + f) % 1000) / 100),
        9.5,
      );
    }
    window.openFrame(4, 4000);
    const copy = ScoreWindow.fromState(
      JSON.parse(JSON.stringify(window.toState())),
      { frames: 3 },
      'ddsketch',
      0.01,
    );
    for (const q of [0.5, 0.9, 0.99, 0.999]) expect(copy.quantile(q)).toBe(window.quantile(q));
    expect(copy.kept).toBe(window.kept);
    expect(copy.censoredBurst(0.99)).toBe(window.censoredBurst(0.99));
  });
});
