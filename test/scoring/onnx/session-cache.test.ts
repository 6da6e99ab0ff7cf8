import { Tensor } from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { OnnxGraphBuilder } from '../../../src/scoring/onnx/onnx-graph-builder.js';
import { createOrtSession } from '../../../src/scoring/onnx/ort-session.js';
import { type CachedSession, SessionCache } from '../../../src/scoring/onnx/session-cache.js';

/** A session computing y = x + k, so each key's session is recognisable by its output. */
async function addSession(k: number): Promise<CachedSession<number>> {
  const g = new OnnxGraphBuilder();
  g.input('x', 'float32', ['N']);
  g.node('Add', ['x', g.scalar('k', k)], ['y']);
  g.output('y', 'float32', ['N']);
  return { session: await createOrtSession(g.toBytes(), { threads: 1 }), meta: k };
}

const feeds = () => ({ x: new Tensor('float32', Float32Array.of(1, 2), [2]) });

describe('SessionCache', () => {
  it('creates one session per key, shared by concurrent callers', async () => {
    const cache = new SessionCache<number>();
    let created = 0;
    const make = (k: number) => () => {
      created++;
      return addSession(k);
    };
    const [a1, a2, b] = await Promise.all([
      cache.get('a', make(1)),
      cache.get('a', make(1)),
      cache.get('b', make(2)),
    ]);
    expect(a1).toBe(a2);
    expect(a1.session).not.toBe(b.session);
    expect(created).toBe(2);
    expect(cache.size).toBe(2);
    await cache.releaseAll();
    expect(cache.size).toBe(0);
  });

  it('evicts the oldest key beyond its limit and releases that session (a run on it then fails)', async () => {
    const cache = new SessionCache<number>(2);
    const a = await cache.get('a', () => addSession(1));
    await cache.get('b', () => addSession(2));
    await cache.get('c', () => addSession(3));
    expect(cache.size).toBe(2);
    await new Promise((resolve) => setTimeout(resolve, 10));
    await expect(a.session.run(feeds())).rejects.toThrow();
    const again = await cache.get('a', () => addSession(10));
    const out = await again.session.run(feeds());
    expect(Array.from(out.y?.data as Float32Array)).toEqual([11, 12]);
    await cache.releaseAll();
  });

  it('releases only after tracked runs settle', async () => {
    const cache = new SessionCache<number>();
    const { session } = await cache.get('a', () => addSession(5));
    const run = cache.track(session.run(feeds()));
    const released = cache.releaseAll();
    const out = await run;
    expect(Array.from(out.y?.data as Float32Array)).toEqual([6, 7]);
    await released;
    await expect(session.run(feeds())).rejects.toThrow();
  });

  it('does not cache a failed creation: the next get tries again', async () => {
    const cache = new SessionCache<number>();
    await expect(cache.get('a', () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(cache.size).toBe(0);
    const ok = await cache.get('a', () => addSession(1));
    expect(ok.meta).toBe(1);
    await cache.releaseAll();
  });
});
