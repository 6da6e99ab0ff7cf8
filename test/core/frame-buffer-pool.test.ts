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

  it('prefills buffers of one length, up to the count and maxFree, served before any new one', () => {
    const pool = new FrameBufferPool({ maxFree: 3 });
    expect(pool.prefill(100, 2)).toBe(2);
    expect(pool.prefill(100, 2)).toBe(0); // two already wait
    expect(pool.prefill(100, 5)).toBe(1); // maxFree
    expect(pool.prefill(0, 5)).toBe(0);
    expect(pool.allocated).toBe(3);
    const lent = [pool.acquire(100), pool.acquire(100), pool.acquire(100)];
    expect(lent.every((buffer) => buffer.length === 100 && buffer.every((v) => v === 0))).toBe(true);
    expect([pool.allocated, pool.reused]).toEqual([3, 3]);
    expect(pool.acquire(100)).not.toBe(lent[0]);
    expect(pool.allocated).toBe(4);
  });

  it('makes room for a released buffer by dropping one of another length when full (the block size changed)', () => {
    const pool = new FrameBufferPool({ maxFree: 2 });
    pool.prefill(100, 2); // prefilled at the configured size; the camera opened at another
    const a = pool.acquire(60);
    const b = pool.acquire(60);
    pool.release(a);
    pool.release(b);
    expect(pool.acquire(60)).toBe(a);
    expect(pool.acquire(60)).toBe(b);
    expect(pool.acquire(100)).not.toBe(a); // the stale ones were dropped for them
    expect(pool.allocated).toBe(5);
  });
});
