import { describe, expect, it } from 'vitest';
import { FrameBufferPool } from '../../src/core/frame-buffer-pool.js';

describe('FrameBufferPool', () => {
  it('reuses a released buffer of the same length, and counts', () => {
    const pool = new FrameBufferPool();
    const a = pool.acquire(100);
    a.fill(7);
    pool.release(a);
    expect(pool.acquire(50)).not.toBe(a); // another length: a new one
    const again = pool.acquire(100);
    expect(again).toBe(a);
    expect(again[0]).toBe(7); // old contents: the source overwrites them
    expect([pool.allocated, pool.reused]).toEqual([2, 1]);
  });

  it('takes back only its own buffers that are out, at most maxFree of them', () => {
    const pool = new FrameBufferPool({ maxFree: 1 });
    const a = pool.acquire(10);
    const b = pool.acquire(10);
    pool.release(new Float32Array(10)); // foreign
    pool.release(new Uint16Array(10));
    pool.release(a);
    pool.release(a); // twice: once
    pool.release(b); // beyond maxFree: dropped
    expect(pool.acquire(10)).toBe(a);
    expect(pool.acquire(10)).not.toBe(b);
    expect(pool.reused).toBe(1);
  });

  it("lends a buffer with a release that works once: a stale call leaves the buffer's next lease alone", () => {
    const pool = new FrameBufferPool();
    const first = pool.lend(10);
    first.release();
    const second = pool.lend(10);
    expect(second.data).toBe(first.data); // reused
    first.release(); // stale: the buffer is out again, under the second lease
    expect(pool.lend(10).data).not.toBe(second.data);
    second.release();
    expect(pool.lend(10).data).toBe(second.data);
    expect([pool.allocated, pool.reused]).toEqual([2, 2]);
  });
});
