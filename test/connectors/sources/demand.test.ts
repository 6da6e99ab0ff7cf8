import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lastValueFrom, type Observable, toArray } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QueueRoom } from '../../../connectors/sources/demand.js';
import { enviReplay } from '../../../connectors/sources/envi-replay.js';
import { simulatedLineScan } from '../../../connectors/sources/simulated-line-scan.js';
import { backpressure } from '../../../operators/backpressure.js';
import type { CubeFrame } from '../../../src/core/frame.js';
import { writeEnviCube } from '../../../src/io/envi/writer.js';

const CAPACITY = 2;

/** A slow asynchronous consumer (like scoring on worker threads) behind a drop-oldest queue. */
async function consume(
  frames: Observable<CubeFrame>,
  room: QueueRoom | undefined,
): Promise<{ rows: number[]; dropped: number }> {
  let dropped = 0;
  const rows = await lastValueFrom(
    frames.pipe(
      backpressure(
        async (frame: CubeFrame) => {
          await new Promise((resolve) => setTimeout(resolve, 3));
          return frame.rowOffset ?? 0;
        },
        {
          policy: 'dropOldest',
          capacity: CAPACITY,
          onDrop: () => dropped++,
          onQueueDepth: (depth) => room?.update(depth),
        },
      ),
      toArray(),
    ),
  );
  return { rows, dropped };
}

describe('QueueRoom', () => {
  it('has room below capacity, and wakes a waiting source once the queue shrinks', async () => {
    const room = new QueueRoom(2);
    expect(room.demand()).toBeUndefined();
    room.update(2);
    const waiting = room.demand();
    expect(waiting).toBeInstanceOf(Promise);
    let woke = false;
    void waiting?.then(() => (woke = true));
    room.update(2);
    await Promise.resolve();
    expect(woke).toBe(false);
    room.update(1);
    await waiting;
    expect(woke).toBe(true);
    expect(room.demand()).toBeUndefined();
  });
});

describe('consumer-paced sources (no linesPerSecond)', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cubestream-demand-'));
    await writeEnviCube(
      join(dir, 'cube.hdr'),
      { lines: 40, samples: 3, bands: 2, data: new Float32Array(240).fill(1), wavelengths: [500, 600] },
      { dataType: 4, interleave: 'bip', byteOrder: 0 },
    );
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('the simulator drops blocks to a slow asynchronous consumer without demand, none with it', async () => {
    const options = { width: 8, bands: 6, blockRows: 1, totalRows: 30, frames: 1, seed: 1 };
    const flooded = await consume(simulatedLineScan(options).frames, undefined);
    expect(flooded.dropped).toBeGreaterThan(0);
    const room = new QueueRoom(CAPACITY);
    const paced = await consume(simulatedLineScan({ ...options, demand: room.demand }).frames, room);
    expect(paced.dropped).toBe(0);
    expect(paced.rows).toEqual(Array.from({ length: 30 }, (_, i) => i));
  });

  it('an ENVI replay hands every block to a slow asynchronous consumer with demand', async () => {
    const room = new QueueRoom(CAPACITY);
    const paced = await consume(
      enviReplay({ path: join(dir, 'cube.hdr'), blockRows: 1, demand: room.demand }).frames,
      room,
    );
    expect(paced.dropped).toBe(0);
    expect(paced.rows).toEqual(Array.from({ length: 40 }, (_, i) => i));
  });
});
