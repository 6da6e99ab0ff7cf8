import { describe, expect, it } from 'vitest';
import { BlockBufferPool } from '../../src/core/block-buffer-pool.js';

describe('BlockBufferPool', () => {
  it('reuses a released buffer of the same length, and counts', () => {
    const pool = new BlockBufferPool();
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
    const pool = new BlockBufferPool({ maxFree: 1 });
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
});
