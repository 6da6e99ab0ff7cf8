/**
 * Camera state checkpoints on a real `nats-server -js`: the Object Store round trip and its size
 * bound, and the sync between a keeper and the store (loaded at acquire, written every N blocks
 * while owned, written at a release, not written once taken).
 */
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CameraStateStore, CameraStateStoreError } from '../../../connectors/shared/camera-state-store.js';
import {
  type CameraStateKeeper,
  CameraStateSync,
  type RestoredState,
} from '../../../connectors/shared/camera-state-sync.js';
import { brokersInstalled, startNatsServer, type TestBroker } from '../../helpers/brokers.js';

const skip = !brokersInstalled && process.env.CI !== 'true';
const text = (bytes: Uint8Array | undefined) =>
  bytes === undefined ? undefined : Buffer.from(bytes).toString('utf8');
const bytesOf = (value: string) => new Uint8Array(Buffer.from(value, 'utf8'));

/** A keeper whose state per camera is a counter of blocks, encoded as text. */
class CountingKeeper implements CameraStateKeeper {
  readonly blocks = new Map<string, number>();
  readonly listeners = new Set<(camera: string, bytes: Uint8Array) => void>();

  block(camera: string, every: number): void {
    const n = (this.blocks.get(camera) ?? 0) + 1;
    this.blocks.set(camera, n);
    if (n % every === 0) for (const listener of this.listeners) listener(camera, bytesOf(`${camera}:${n}`));
  }
  snapshot(camera: string): Uint8Array | undefined {
    const n = this.blocks.get(camera);
    return n === undefined ? undefined : bytesOf(`${camera}:${n}`);
  }
  restore(camera: string, bytes: Uint8Array | undefined): RestoredState | undefined {
    if (bytes === undefined) {
      this.blocks.delete(camera);
      return undefined;
    }
    const [owner, n] = text(bytes)?.split(':') ?? [];
    if (owner !== camera) throw new Error(`it is camera ${owner}'s`);
    this.blocks.set(camera, Number(n));
    return { frameId: Number(n) - 1, blocks: Number(n) };
  }
  listen(listener: (camera: string, bytes: Uint8Array) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

describe.skipIf(skip)('camera state on JetStream', () => {
  let nats: TestBroker;
  let nc: NatsConnection;
  beforeAll(async () => {
    nats = await startNatsServer();
    nc = await connect({ servers: nats.url });
  });
  afterAll(async () => {
    await nc?.close();
    await nats?.dispose();
  });

  it('stores, replaces and reads back a checkpoint per camera; none stored reads as undefined', async () => {
    const store = new CameraStateStore(nc, { bucket: 'STATE_ROUNDTRIP' });
    expect(await store.get('cam0')).toBeUndefined();
    // Larger than one object chunk (128 KiB): the store splits and joins it.
    const big = new Uint8Array(300_000).map((_, i) => i % 251);
    await store.put('cam0', big);
    await store.put('cam1', bytesOf('one'));
    expect(await store.get('cam0')).toEqual(big);
    await store.put('cam1', bytesOf('two'));
    expect(text(await store.get('cam1'))).toBe('two');
    await store.delete('cam1');
    expect(await store.get('cam1')).toBeUndefined();
  });

  it("one object per ownership: a late write of an earlier owner never replaces a later owner's state", async () => {
    const store = new CameraStateStore(nc, { bucket: 'STATE_EPOCHS' });
    await store.put('cam0', bytesOf('cam0:legacy')); // written before epochs: epoch 0
    await store.put('cam0', bytesOf('cam0:50'), 7); // owner A, lease revision 7
    await store.put('cam0', bytesOf('cam0:150'), 12); // owner B, revision 12
    await store.put('cam0', bytesOf('cam0:100'), 7); // A's write that was still in flight lands last
    await store.put('cam1', bytesOf('cam1:9'), 3); // another camera's objects are not cam0's
    const newest = async () => {
      const latest = await store.latest('cam0');
      return [text(latest?.bytes), latest?.epoch];
    };
    expect(await newest()).toEqual(['cam0:150', 12]);
    const names = async () => [
      ...(await store.checkpoints('cam0')).map((c) => `${c.name}@${c.epoch}`),
      ...(await store.checkpoints('cam1')).map((c) => `${c.name}@${c.epoch}`),
    ];
    expect(await names()).toEqual([
      'camera.cam0@0',
      'camera.cam0.7@7',
      'camera.cam0.12@12',
      'camera.cam1.3@3',
    ]);

    // The next owner (revision 20) loads B's state and deletes what it outranks.
    const keeper = new CountingKeeper();
    const sync = new CameraStateSync(store, keeper);
    await sync.acquire('cam0', 20);
    expect(keeper.blocks.get('cam0')).toBe(150);
    expect(await names()).toEqual(['camera.cam0.12@12', 'camera.cam1.3@3']);
    // Its own checkpoints go to its object, which now ranks first.
    for (let i = 0; i < 4; i++) keeper.block('cam0', 4);
    await sync.release('cam0', 'released');
    expect(await newest()).toEqual(['cam0:154', 20]);
    await sync.close();
    await store.delete('cam0');
    expect(await names()).toEqual(['camera.cam1.3@3']);
  });

  it('refuses a checkpoint over its byte bound, writing and reading, naming the limit', async () => {
    const store = new CameraStateStore(nc, { bucket: 'STATE_BOUND', maxBytes: 1_000 });
    await expect(store.put('cam0', new Uint8Array(1_001))).rejects.toThrow(
      /1001 bytes is over the 1000-byte limit/,
    );
    await new CameraStateStore(nc, { bucket: 'STATE_BOUND' }).put('cam0', new Uint8Array(2_000));
    const error = await store.get('cam0').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CameraStateStoreError);
    expect(String(error)).toMatch(/stored checkpoint of 2000 bytes/);
  });

  it('loads at acquire, writes every N blocks while owned and at a release, nothing once taken', async () => {
    const store = new CameraStateStore(nc, { bucket: 'STATE_SYNC' });
    const saved: string[] = [];
    const restored: Array<[string, number | undefined]> = [];
    const refused: string[] = [];
    const keeper = new CountingKeeper();
    const sync = new CameraStateSync(store, keeper, {
      onSaved: (camera, _bytes, why) => saved.push(`${camera}:${why}`),
      onRestored: (camera, state) => restored.push([camera, state?.blocks]),
      onRefused: (camera, error) => refused.push(`${camera}: ${error.message}`),
    });
    await sync.acquire('cam0');
    expect(restored).toEqual([['cam0', undefined]]);
    for (let i = 0; i < 25; i++) keeper.block('cam0', 10);
    // A camera not owned here is not written.
    for (let i = 0; i < 10; i++) keeper.block('cam9', 10);
    await sync.release('cam0', 'released');
    expect(text(await store.get('cam0'))).toBe('cam0:25');
    expect(saved.at(-1)).toBe('cam0:release');
    expect(saved.every((s) => s.startsWith('cam0:'))).toBe(true);
    expect(await store.get('cam9')).toBeUndefined();

    // Another process acquires it: it continues at 25.
    const next = new CountingKeeper();
    const other = new CameraStateSync(store, next, {
      onRestored: (camera, state) => restored.push([camera, state?.blocks]),
    });
    await other.acquire('cam0');
    expect(next.blocks.get('cam0')).toBe(25);
    expect(restored.at(-1)).toEqual(['cam0', 25]);
    for (let i = 0; i < 5; i++) next.block('cam0', 10); // 30: a periodic write
    await other.release('cam0', 'taken');
    for (let i = 0; i < 10; i++) next.block('cam0', 10); // 40: not owned any more
    await other.close();
    expect(text(await store.get('cam0'))).toBe('cam0:30');

    // Bytes the keeper refuses: reported, and the camera is owned (from the start).
    await store.put('cam1', bytesOf('cam7:3'));
    await sync.acquire('cam1');
    expect(refused).toEqual(["cam1: it is camera cam7's"]);
    await sync.close();
  });

  it('writes the newest of checkpoints that come faster than the store takes them, in order', async () => {
    const store = new CameraStateStore(nc, { bucket: 'STATE_COALESCE' });
    const keeper = new CountingKeeper();
    const written: string[] = [];
    const put = store.put.bind(store);
    store.put = async (camera, bytes) => {
      written.push(text(bytes) ?? '');
      await put(camera, bytes);
    };
    const sync = new CameraStateSync(store, keeper);
    await sync.acquire('cam0');
    for (let i = 0; i < 100; i++) keeper.block('cam0', 1); // 100 checkpoints in one tick
    await sync.close();
    // The first went at once; of the 99 behind it only the newest is written.
    expect(written).toEqual(['cam0:1', 'cam0:100']);
    expect(text(await store.get('cam0'))).toBe('cam0:100');
  });
});
