/**
 * SwitchingPipeline: a model switch while frames flow decides every frame exactly once, frames
 * before the switch by the old model and after it by the new one, decisions leaving in frame
 * order however slowly the old model drains; `assemble: frame` waits for a frame boundary; lanes
 * are retired once, after their last decision. Real `deepSvddPipeline`s on two tiny bundles.
 */
import { concatMap, delay, from, Observable, type OperatorFunction, of, Subject, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { deepSvddPipeline } from '../../../operators/deep-svdd-pipeline.js';
import {
  type SwitchingPipeline as Lanes,
  SwitchingPipeline,
} from '../../../src/app/service/switching-pipeline.js';
import type { DecidedFrame } from '../../../src/core/decision.js';
import { type CubeFrame, createFrame } from '../../../src/core/frame.js';
import type { ModelBundle } from '../../../src/model/bundle.js';
import { tinyDeepSvddBundle, tinyFrame } from '../../helpers/tiny-model.js';

interface Lane {
  readonly bundle: ModelBundle;
  /** Extra delay per decision (ms): a slow old model must not let the new one overtake it. */
  readonly slowMs: number;
}

function lanes(first: Lane, options: { boundary?: 'block' | 'frame' } = {}) {
  const retired: string[] = [];
  const switches: { from: string; to: string; frames: number }[] = [];
  const pipeline: Lanes<Lane> = new SwitchingPipeline<Lane>(first, {
    build: (lane) => {
      const decide = deepSvddPipeline(lane.bundle, {
        scorer: 'onnx',
        scorerWorkers: 0,
        backpressure: { policy: 'block', capacity: 64 },
      });
      const slow: OperatorFunction<DecidedFrame, DecidedFrame> = concatMap((d) =>
        of(d).pipe(delay(lane.slowMs)),
      );
      return (frames) => frames.pipe(decide, slow);
    },
    ...options,
    onSwitch: (a, b, frames) =>
      switches.push({ from: a.bundle.manifest.version, to: b.bundle.manifest.version, frames }),
    onRetired: (lane) => retired.push(lane.bundle.manifest.version),
  });
  return { pipeline, retired, switches };
}

/** Frames pushed by hand, one macrotask apart. */
function feed(frames: readonly CubeFrame[], onEach: (index: number) => void): Observable<CubeFrame> {
  return new Observable<CubeFrame>((subscriber) => {
    let i = 0;
    const next = (): void => {
      if (subscriber.closed) return;
      const frame = frames[i];
      if (frame === undefined) {
        subscriber.complete();
        return;
      }
      subscriber.next(frame);
      onEach(i);
      i += 1;
      setImmediate(next);
    };
    setImmediate(next);
  });
}

describe('SwitchingPipeline', () => {
  const a = tinyDeepSvddBundle(4, 'tiny-a');
  const b = tinyDeepSvddBundle(4, 'tiny-b');

  it('switches between two blocks: every frame decided once, in order, old version before, new after', async () => {
    const { pipeline, retired, switches } = lanes({ bundle: a, slowMs: 15 });
    const frames = Array.from({ length: 12 }, (_, i) => tinyFrame({ frameId: i, height: 4, width: 8 }));
    const decided = await new Promise<DecidedFrame[]>((resolve, reject) => {
      feed(frames, (i) => {
        if (i === 4) pipeline.switchTo({ bundle: b, slowMs: 0 });
      })
        .pipe(pipeline.operator, toArray())
        .subscribe({ next: resolve, error: reject });
    });
    expect(decided.map((d) => d.frameId)).toEqual(frames.map((f) => f.frameId));
    const versions = decided.map((d) => d.decision.modelVersion);
    expect(versions).toEqual([...Array(5).fill('tiny-a'), ...Array(7).fill('tiny-b')]);
    expect(switches).toEqual([{ from: 'tiny-a', to: 'tiny-b', frames: 5 }]);
    expect(retired).toEqual(['tiny-a', 'tiny-b']);
    expect(pipeline.current.bundle.manifest.version).toBe('tiny-b');
  });

  it('takes a model scheduled before the first frame at once; the first one never decides', async () => {
    const { pipeline, retired, switches } = lanes({ bundle: a, slowMs: 0 });
    pipeline.switchTo({ bundle: b, slowMs: 0 });
    expect(switches).toEqual([{ from: 'tiny-a', to: 'tiny-b', frames: 0 }]);
    expect(retired).toEqual(['tiny-a']);
    const frames = Array.from({ length: 3 }, (_, i) => tinyFrame({ frameId: i, height: 4, width: 8 }));
    const decided = await new Promise<DecidedFrame[]>((resolve, reject) =>
      from(frames).pipe(pipeline.operator, toArray()).subscribe({ next: resolve, error: reject }),
    );
    expect(decided.map((d) => d.decision.modelVersion)).toEqual(['tiny-b', 'tiny-b', 'tiny-b']);
    expect(retired).toEqual(['tiny-a', 'tiny-b']);
  });

  it('with assemble: frame, waits for the first block of the next frame', async () => {
    const { pipeline, switches } = lanes({ bundle: a, slowMs: 0 }, { boundary: 'frame' });
    // Two frames of three 4-row blocks each.
    const blocks = [0, 1].flatMap((frameId) =>
      [0, 4, 8].map((rowOffset) => {
        const block = tinyFrame({ frameId, height: 4, width: 8 });
        return createFrame({ ...block, rowOffset, totalRows: 12 });
      }),
    );
    const input = new Subject<CubeFrame>();
    const out: DecidedFrame[] = [];
    const done = new Promise<void>((resolve, reject) =>
      input.pipe(pipeline.operator).subscribe({ next: (d) => out.push(d), error: reject, complete: resolve }),
    );
    input.next(blocks[0] as CubeFrame);
    pipeline.switchTo({ bundle: b, slowMs: 0 });
    expect(pipeline.pending?.bundle.manifest.version).toBe('tiny-b');
    input.next(blocks[1] as CubeFrame);
    input.next(blocks[2] as CubeFrame);
    // The frame's last block went to the old model: the boundary is right after it.
    expect(switches).toEqual([{ from: 'tiny-a', to: 'tiny-b', frames: 3 }]);
    for (const block of blocks.slice(3)) input.next(block);
    input.complete();
    await done;
    expect(out.map((d) => `${d.frameId}:${d.rowOffset}:${d.decision.modelVersion}`)).toEqual([
      '0:0:tiny-a',
      '0:4:tiny-a',
      '0:8:tiny-a',
      '1:0:tiny-b',
      '1:4:tiny-b',
      '1:8:tiny-b',
    ]);
  });

  it('a model scheduled while another waits replaces it; the replaced one is retired unused', () => {
    const { pipeline, retired } = lanes({ bundle: a, slowMs: 0 }, { boundary: 'frame' });
    const c = tinyDeepSvddBundle(4, 'tiny-c');
    const input = new Subject<CubeFrame>();
    const subscription = input.pipe(pipeline.operator).subscribe();
    input.next(createFrame({ ...tinyFrame({ frameId: 0, height: 4, width: 8 }), totalRows: 8 }));
    pipeline.switchTo({ bundle: b, slowMs: 0 });
    pipeline.switchTo({ bundle: c, slowMs: 0 });
    expect(retired).toEqual(['tiny-b']);
    expect(pipeline.pending?.bundle.manifest.version).toBe('tiny-c');
    subscription.unsubscribe();
    expect(retired.sort()).toEqual(['tiny-a', 'tiny-b', 'tiny-c']);
    expect(pipeline.switchTo({ bundle: a, slowMs: 0 })).toBe(false);
  });
});
