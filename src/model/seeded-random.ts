/**
 * A deterministic pseudo-random generator of floats in [0, 1) (mulberry32: 32-bit state, fast,
 * good enough for weight initialisation; not cryptographic). The same seed gives the same
 * sequence on every machine; cubestream never uses `Math.random` for model state.
 *
 * @example
 * ```ts
 * const random = seededRandom(42);
 * const u = random(); // 0 <= u < 1
 * ```
 */
export function seededRandom(seed: number): () => number {
  let state = Math.trunc(seed) >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `length` values drawn uniformly from [-bound, bound) with `random`. */
export function uniformArray(length: number, bound: number, random: () => number): Float32Array {
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) out[i] = (2 * random() - 1) * bound;
  return out;
}
