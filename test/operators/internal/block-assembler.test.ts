import { describe, expect, it } from 'vitest';
import { BlockAssembler, BlockMismatchError } from '../../../operators/internal/block-assembler.js';
import { thresholded } from '../scored-frame-fixtures.js';

/** Block `row` (one row of width 2) of frame `frameId` with `totalRows` rows. */
const block = (frameId: number, row: number, totalRows: number, scores = [row, row], camera = 'cam0') =>
  thresholded(scores, 5, { cameraId: camera, frameId, rowOffset: row, totalRows, capturedAt: 1000 + row });

describe('BlockAssembler', () => {
  it('emits a frame once all its rows arrived, in any order, with whole-frame geometry', () => {
    const assembler = new BlockAssembler(4);
    expect(assembler.add(block(0, 2, 3, [9, 1])).frames).toEqual([]);
    expect(assembler.add(block(0, 0, 3)).frames).toEqual([]);
    const [done] = assembler.add(block(0, 1, 3, [6, 0])).frames;
    expect(done!.frame).toMatchObject({ rowOffset: 0, height: 3, width: 2, capturedAt: 1000, threshold: 5 });
    expect(Array.from(done!.frame.scores)).toEqual([0, 0, 6, 0, 9, 1]);
    expect(Array.from(done!.mask)).toEqual([0, 0, 1, 0, 1, 0]);
    expect(done).toMatchObject({ pixels: 6, maxScore: 9, missingRows: 0 });
  });

  it('flushes older incomplete frames first when a newer one completes', () => {
    const assembler = new BlockAssembler(4);
    assembler.add(block(0, 0, 2));
    assembler.add(block(1, 0, 2));
    const out = assembler.add(block(1, 1, 2)).frames;
    expect(out.map((f) => [f.frame.frameId, f.missingRows, f.pixels])).toEqual([
      [0, 1, 2],
      [1, 0, 4],
    ]);
  });

  it('keeps cameras apart and flushes everything at the end', () => {
    const assembler = new BlockAssembler(4);
    assembler.add(block(0, 0, 2, [1, 1], 'a'));
    assembler.add(block(0, 1, 2, [1, 1], 'b'));
    expect(
      assembler.add(block(3, 0, 1, [1, 1], 'b')).frames.map((f) => [f.frame.cameraId, f.frame.frameId]),
    ).toEqual([
      ['b', 0],
      ['b', 3],
    ]);
    expect(assembler.flushAll().map((f) => [f.frame.cameraId, f.frame.frameId, f.missingRows])).toEqual([
      ['a', 0, 1],
    ]);
    expect(assembler.flushAll()).toEqual([]);
  });

  it('bounds the frames waiting per camera', () => {
    const assembler = new BlockAssembler(2);
    assembler.add(block(0, 0, 3));
    assembler.add(block(1, 0, 3));
    expect(assembler.add(block(2, 0, 3)).frames.map((f) => f.frame.frameId)).toEqual([0]);
  });

  it('returns a block of an already emitted frame as late', () => {
    const assembler = new BlockAssembler(4);
    assembler.add(block(0, 0, 2));
    assembler.add(block(1, 0, 1));
    const late = block(0, 1, 2);
    expect(assembler.add(late)).toEqual({ frames: [], late });
  });

  it('assembles frame ids that start over (a camera restart) as usual', () => {
    const assembler = new BlockAssembler(4);
    assembler.add(block(100, 0, 1));
    assembler.add(block(101, 0, 2)); // left incomplete by the restart
    expect(assembler.add(block(0, 0, 2)).frames).toEqual([]);
    expect(assembler.add(block(0, 1, 2)).frames.map((f) => [f.frame.frameId, f.missingRows])).toEqual([
      [0, 0],
    ]);
    expect(assembler.flushAll().map((f) => f.frame.frameId)).toEqual([101]);
  });

  it('rejects blocks that disagree with their frame on width or totalRows', () => {
    const assembler = new BlockAssembler(4);
    assembler.add(block(0, 0, 3));
    expect(() =>
      assembler.add(thresholded([1, 2, 3], 5, { frameId: 0, rowOffset: 1, totalRows: 3 })),
    ).toThrow(BlockMismatchError);
    expect(() => assembler.add(block(0, 1, 4))).toThrow(
      /totalRows = 4, but earlier blocks of that frame have 3/,
    );
  });
});
