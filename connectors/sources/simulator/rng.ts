/**
 * Seeded pseudo-random numbers for the simulator: sfc32 (a small, fast, well-tested 128-bit-state
 * generator) seeded through splitmix32, plus Box-Muller normals. Never `Math.random`: the same
 * seed and stream give the same sequence on every machine.
 */

/** A seeded generator of uniform and normal variates. */
export interface SimRandom {
  /** Next raw 32-bit unsigned integer. */
  uint32(): number;
  /** Uniform in [0, 1). */
  uniform(): number;
  /** Uniform in [min, max). */
  between(min: number, max: number): number;
  /** Standard normal N(0, 1) (Box-Muller, the spare value is kept). */
  normal(): number;
}

/** One splitmix32 step: a well-mixed 32-bit value from `x`, used to derive seeds. */
export function splitmix32(x: number): number {
  let z = (x + 0x9e3779b9) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/**
 * A sfc32 generator for `seed`; `stream` selects an independent sequence for the same seed
 * (geometry, noise and sensor defects each draw from their own stream, so changing one knob does
 * not reshuffle the others).
 *
 * @example
 * ```ts
 * const random = simRandom(1, 2);
 * const x = random.normal();
 * ```
 */
export function simRandom(seed: number, stream = 0): SimRandom {
  const base = splitmix32((Math.trunc(seed) >>> 0) ^ Math.imul(stream + 1, 0x27d4eb2d));
  let a = splitmix32(base);
  let b = splitmix32(a);
  let c = splitmix32(b);
  let d = 1;
  const uint32 = (): number => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return t >>> 0;
  };
  for (let i = 0; i < 15; i++) uint32();
  const uniform = (): number => uint32() / 4294967296;
  let spare = Number.NaN;
  const normal = (): number => {
    if (!Number.isNaN(spare)) {
      const s = spare;
      spare = Number.NaN;
      return s;
    }
    const u = 1 - uniform(); // (0, 1]: log stays finite
    const v = uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  };
  return { uint32, uniform, normal, between: (min, max) => min + (max - min) * uniform() };
}

/** Bits of a random word that index {@link normalTable}. */
export const NORMAL_TABLE_BITS = 12;

/** Size of {@link normalTable}: 4096 values (16 KiB, stays in the L1 cache of the hot loop). */
export const NORMAL_TABLE_SIZE = 1 << NORMAL_TABLE_BITS;

/**
 * A table of {@link NORMAL_TABLE_SIZE} standard normal values for the per-value noise hot loop:
 * indexing it with the top {@link NORMAL_TABLE_BITS} bits of a random word costs a fraction of
 * a Box-Muller draw. The table is
 * exactly standardised (mean 0, variance 1).
 */
export function normalTable(random: SimRandom): Float32Array {
  const table = new Float32Array(NORMAL_TABLE_SIZE);
  let sum = 0;
  for (let i = 0; i < table.length; i++) {
    const v = random.normal();
    table[i] = v;
    sum += v;
  }
  const mean = sum / table.length;
  let squares = 0;
  for (let i = 0; i < table.length; i++) {
    const v = table[i]! - mean;
    squares += v * v;
  }
  const scale = 1 / Math.sqrt(squares / table.length);
  for (let i = 0; i < table.length; i++) table[i] = (table[i]! - mean) * scale;
  return table;
}
