/**
 * The capture folder's disk budget on a temp dir: the oldest captures go first when the bytes
 * or the age run over, each deletion is reported with its reason, and a scan at start rebuilds
 * the index from what an earlier run left (and applies the budget to it). The clock is a fake:
 * nothing here depends on how long the test takes.
 */
import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  CAPTURE_INCOMING,
  type CaptureDeleteReason,
  CaptureStore,
  type StoredCapture,
} from '../../../connectors/sinks/capture/capture-store.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cubestream-capture-store-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const HOUR = 3_600_000;

/** A capture folder of `bytes` bytes (two files) under `<dir>/<kind>/<camera>/<name>`, dated `at` when given. */
async function fakeCapture(
  kind: string,
  camera: string,
  name: string,
  bytes: number,
  at?: number,
): Promise<string> {
  const folder = join(dir, kind, camera, name);
  await mkdir(folder, { recursive: true });
  const half = Math.floor(bytes / 2);
  await writeFile(join(folder, 'cube.img'), new Uint8Array(half));
  await writeFile(join(folder, 'capture.json'), new Uint8Array(bytes - half));
  if (at !== undefined) {
    const seconds = at / 1000;
    await utimes(join(folder, 'cube.img'), seconds, seconds);
    await utimes(join(folder, 'capture.json'), seconds, seconds);
  }
  return folder;
}

/** A store on `dir` with a settable clock, recording every deletion. */
function storeWith(maxBytes: number, maxAgeMs: number, start = Date.now()) {
  const clock = { now: start };
  const deleted: { reason: CaptureDeleteReason; capture: StoredCapture }[] = [];
  const bytes: number[] = [];
  const store = new CaptureStore({
    dir,
    maxBytes,
    maxAgeMs,
    now: () => clock.now,
    onDeleted: (reason, capture) => deleted.push({ reason, capture }),
    onBytes: (b) => bytes.push(b),
  });
  return { store, clock, deleted, bytes };
}

async function exists(path: string): Promise<boolean> {
  try {
    await readdir(path);
    return true;
  } catch {
    return false;
  }
}

describe('CaptureStore', () => {
  it('deletes the oldest captures first when a new one takes the bytes over maxBytes', async () => {
    const { store, clock, deleted } = storeWith(2_500, 1_000 * HOUR);
    await store.scan();
    const folders: string[] = [];
    for (const [i, name] of ['a', 'b', 'c', 'd'].entries()) {
      clock.now += 1_000;
      const folder = await fakeCapture('normal', 'cam0', name, 1_000);
      folders.push(folder);
      await store.add(folder);
      expect(store.bytes, `after ${name}`).toBeLessThanOrEqual(2_500);
      expect(store.list()).toHaveLength(Math.min(i + 1, 2));
    }
    expect(deleted.map((d) => [d.reason, d.capture.path])).toEqual([
      ['bytes', folders[0]],
      ['bytes', folders[1]],
    ]);
    expect(await exists(folders[0] as string)).toBe(false);
    expect(await exists(folders[1] as string)).toBe(false);
    expect(store.list().map((c) => c.path)).toEqual([folders[2], folders[3]]);
    expect(store.bytes).toBe(2_000);
  });

  it('makes room before a write: the capture to come fits without the total ever exceeding maxBytes', async () => {
    const { store, clock, deleted } = storeWith(3_000, 1_000 * HOUR);
    await store.scan();
    for (const name of ['a', 'b', 'c']) {
      clock.now += 1_000;
      await store.add(await fakeCapture('review', 'cam0', name, 1_000));
    }
    expect(deleted).toEqual([]);
    await store.makeRoom(1_500);
    expect(deleted.map((d) => d.reason)).toEqual(['bytes', 'bytes']);
    expect(store.bytes + 1_500).toBeLessThanOrEqual(3_000);
  });

  it('deletes captures older than maxAge, oldest first, across kinds and cameras', async () => {
    const { store, clock, deleted } = storeWith(1e9, 10 * HOUR);
    await store.scan();
    const old = await fakeCapture('normal', 'cam0', 'old', 100);
    await store.add(old);
    clock.now += 4 * HOUR;
    const middle = await fakeCapture('review', 'cam1', 'middle', 100);
    await store.add(middle);
    clock.now += 4 * HOUR;
    const young = await fakeCapture('normal', 'cam1', 'young', 100);
    await store.add(young);

    clock.now += 3 * HOUR; // old: 11 h, middle: 7 h, young: 3 h
    expect(await store.evictExpired()).toBe(1);
    expect(deleted.map((d) => [d.reason, d.capture.path])).toEqual([['age', old]]);
    clock.now += 4 * HOUR; // middle: 11 h
    await store.enforce();
    expect(deleted.map((d) => d.capture.path)).toEqual([old, middle]);
    expect(store.list().map((c) => c.path)).toEqual([young]);
    expect(store.bytes).toBe(100);
  });

  it('rebuilds the index at start from what an earlier run left, and applies the budget to it', async () => {
    const now = Date.now();
    // Written 30 h, 20 h, 10 h and 1 h ago (file times); the age limit is 24 h, the bytes 2 500.
    const ancient = await fakeCapture('normal', 'cam0', 'ancient', 1_000, now - 30 * HOUR);
    const older = await fakeCapture('review', 'cam0', 'older', 1_000, now - 20 * HOUR);
    const newer = await fakeCapture('normal', 'cam1', 'newer', 1_000, now - 10 * HOUR);
    const newest = await fakeCapture('review', 'cam1', 'newest', 1_000, now - HOUR);
    // A write interrupted by a crash, and a file that is no capture: neither is counted.
    await mkdir(join(dir, CAPTURE_INCOMING, 'half-written'), { recursive: true });
    await writeFile(join(dir, CAPTURE_INCOMING, 'half-written', 'cube.img'), new Uint8Array(5_000));
    await writeFile(join(dir, 'normal', 'README.txt'), 'notes');

    const { store, deleted, bytes } = storeWith(2_500, 24 * HOUR, now);
    await store.scan();
    expect(deleted.map((d) => [d.reason, d.capture.path])).toEqual([
      ['age', ancient],
      ['bytes', older],
    ]);
    expect(store.list().map((c) => c.path)).toEqual([newer, newest]);
    expect(store.bytes).toBe(2_000);
    expect(bytes.at(-1)).toBe(2_000);
    expect(await exists(join(dir, CAPTURE_INCOMING))).toBe(false);
    expect(await exists(ancient)).toBe(false);
    expect(await exists(newest)).toBe(true);

    // The same folder scanned again by a new process: the same index, nothing more deleted.
    const again = storeWith(2_500, 24 * HOUR, now);
    await again.store.scan();
    expect(again.deleted).toEqual([]);
    expect(again.store.list().map((c) => [c.path, c.bytes])).toEqual([
      [newer, 1_000],
      [newest, 1_000],
    ]);
  });

  it('forgets captures moved away by hand at the next scan, without counting them as deleted', async () => {
    const { store, clock, deleted } = storeWith(1e9, 1_000 * HOUR);
    await store.scan();
    const kept = await fakeCapture('review', 'cam0', 'kept', 300);
    await store.add(kept);
    clock.now += 1_000;
    const moved = await fakeCapture('review', 'cam0', 'moved', 300);
    await store.add(moved);
    expect(store.bytes).toBe(600);
    await rm(moved, { recursive: true });
    await store.scan();
    expect(store.list().map((c) => c.path)).toEqual([kept]);
    expect(store.bytes).toBe(300);
    expect(deleted).toEqual([]);
  });

  it('starts on a folder that does not exist yet', async () => {
    const nested = join(dir, 'not', 'there');
    const store = new CaptureStore({ dir: nested, maxBytes: 10, maxAgeMs: HOUR });
    await store.scan();
    expect(store.list()).toEqual([]);
    expect(store.bytes).toBe(0);
    expect(await exists(nested)).toBe(true);
  });
});
