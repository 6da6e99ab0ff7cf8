/**
 * The fail safe for a scorer that fails on a valid block: with `onScoreError`, the block leaves
 * undecided (reported, released), the next blocks are scored by a fresh scorer, and only a run of
 * more than MAX_CONSECUTIVE_SCORER_ERRORS failures ends the stream. The failure is injected into
 * a real onnxruntime runner (every run is real except the ones told to fail).
 */
import { from, lastValueFrom, toArray } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { deepSvddPipeline, MAX_CONSECUTIVE_SCORER_ERRORS } from '../../operators/deep-svdd-pipeline.js';
import type { CubeFrame } from '../../src/core/frame.js';
import type { ChunkRunner } from '../../src/scoring/onnx/chunk-runner.js';
import { createScorer, type Scorer } from '../../src/scoring/scorer.js';
import { tinyDeepSvddBundle, tinyFrame } from '../helpers/tiny-model.js';

const roomy = { policy: 'dropOldest', capacity: 10_000 } as const;
const scorers: Scorer[] = [];

afterEach(async () => {
  for (const scorer of scorers.splice(0)) await scorer.close();
});

/** Which block a buffer belongs to: a run's spectra are a view of its block's buffer. */
const blockOf = new Map<ArrayBufferLike, number>();
let released: number[] = [];

/** A real in-thread onnx scorer whose runner fails the runs of the blocks in `failing`. */
function scorerFailingOn(failing: ReadonlySet<number>): Scorer {
  const real = createScorer(tinyDeepSvddBundle(), { engine: 'onnx', workers: 0 });
  scorers.push(real);
  const inner = real.runner as ChunkRunner;
  const runner: ChunkRunner = {
    describe: inner.describe,
    ready: () => inner.ready(),
    close: () => inner.close(),
    run: (key, build, request) => {
      const block = blockOf.get(request.data.buffer) ?? -1;
      return failing.has(block)
        ? Promise.reject(new Error(`injected onnxruntime failure on block ${block}`))
        : inner.run(key, build, request);
    },
  };
  return { ...real, runner, warm: () => real.warm(), close: () => real.close() };
}

function belt(count: number): CubeFrame[] {
  released = [];
  return Array.from({ length: count }, (_, i) => {
    const frame = tinyFrame({ frameId: i });
    blockOf.set(frame.data.buffer, i);
    return { ...frame, release: () => void released.push(i) };
  });
}

describe('scorer errors', () => {
  it('turn the failing block into onScoreError and go on deciding the next blocks', async () => {
    const failed: [number, string][] = [];
    const decided = await lastValueFrom(
      from(belt(10)).pipe(
        deepSvddPipeline(tinyDeepSvddBundle(), {
          backpressure: roomy,
          scoreWith: scorerFailingOn(new Set([3, 6, 7])),
          hooks: { onScoreError: (frame, error) => failed.push([frame.frameId, error.message]) },
        }),
        toArray(),
      ),
    );
    expect(failed.map(([id]) => id)).toEqual([3, 6, 7]);
    expect(failed[0]?.[1]).toContain('injected onnxruntime failure on block 3');
    expect(decided.map((d) => d.frameId)).toEqual([0, 1, 2, 4, 5, 8, 9]);
    for (const id of [3, 6, 7]) expect(released).toContain(id);
  });

  it(`end the stream after more than ${MAX_CONSECUTIVE_SCORER_ERRORS} failures in a row`, async () => {
    const failed: number[] = [];
    const failing = new Set([2, 3, 4, 5, 6, 7, 8]);
    const run = lastValueFrom(
      from(belt(10)).pipe(
        deepSvddPipeline(tinyDeepSvddBundle(), {
          backpressure: roomy,
          scoreWith: scorerFailingOn(failing),
          hooks: { onScoreError: (frame) => failed.push(frame.frameId) },
        }),
        toArray(),
      ),
    );
    await expect(run).rejects.toThrow('injected onnxruntime failure on block 5');
    expect(failed).toEqual([2, 3, 4]);
  });

  it('without onScoreError, the first failure ends the stream as before', async () => {
    const run = lastValueFrom(
      from(belt(5)).pipe(
        deepSvddPipeline(tinyDeepSvddBundle(), {
          backpressure: roomy,
          scoreWith: scorerFailingOn(new Set([1])),
        }),
        toArray(),
      ),
    );
    await expect(run).rejects.toThrow('injected onnxruntime failure on block 1');
  });
});
