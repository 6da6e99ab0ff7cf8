/** A synthetic uint16 cube (BIP), made in memory from a seed; the same seed gives the same cube. */
export interface SyntheticCube {
  readonly height: number;
  readonly width: number;
  readonly bands: number;
  /** Band centres in nm, evenly spaced over `[minNm, maxNm]`. */
  readonly wavelengths: Float32Array;
  /** `[height * width, bands]` counts. */
  readonly data: Uint16Array;
}

/** Options of {@link syntheticCube}. */
export interface SyntheticCubeOptions {
  readonly height: number;
  readonly width: number;
  readonly bands: number;
  readonly minNm: number;
  readonly maxNm: number;
  /** PRNG seed (default 1). */
  readonly seed?: number;
}

/** xorshift32: small, fast, deterministic. */
function xorshift(seed: number): () => number {
  let state = seed >>> 0 || 0x9e3779b9;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 4294967296;
  };
}

/** A smooth reflectance-like spectrum: a sloped baseline plus one Gaussian bump. */
function spectrum(bands: number, level: number, slope: number, bump: number, at: number): Float32Array {
  return Float32Array.from({ length: bands }, (_, b) => {
    const t = b / Math.max(1, bands - 1);
    return level * (1 + slope * (t - 0.5) + bump * Math.exp(-(((t - at) / 0.12) ** 2)));
  });
}

/**
 * A production-line scene: a belt with two products in lanes, brightness varying along the
 * rows, sensor noise, and a few small foreign-body patches with a different spectral shape
 * (about 0.05% of the pixels). Counts stay within 12 bits, like most line-scan cameras.
 *
 * @example
 * ```ts
 * const cube = syntheticCube({ height: 1080, width: 1000, bands: 61, minNm: 430, maxNm: 910 });
 * ```
 */
export function syntheticCube(options: SyntheticCubeOptions): SyntheticCube {
  const { height, width, bands, minNm, maxNm } = options;
  const random = xorshift(options.seed ?? 1);
  const wavelengths = Float32Array.from(
    { length: bands },
    (_, b) => minNm + ((maxNm - minNm) * b) / (bands - 1),
  );
  const materials = [
    spectrum(bands, 900, 0.2, 0.1, 0.3), // belt
    spectrum(bands, 2200, 0.6, 0.3, 0.7), // product A
    spectrum(bands, 1900, -0.3, 0.5, 0.5), // product B
    spectrum(bands, 1500, 1.2, -0.4, 0.6), // foreign body
  ];
  const noise = Int16Array.from({ length: 1 << 16 }, () =>
    Math.round((random() + random() + random() - 1.5) * 40),
  );
  const foreign = new Uint8Array(height * width);
  const patches = Math.max(1, Math.round((height * width) / 200_000));
  for (let k = 0; k < patches; k++) {
    const r0 = Math.floor(random() * (height - 4));
    const c0 = Math.floor(random() * (width - 4));
    for (let r = r0; r < r0 + 3; r++) for (let c = c0; c < c0 + 4; c++) foreign[r * width + c] = 1;
  }
  const data = new Uint16Array(height * width * bands);
  let n = Math.floor(random() * 65536);
  for (let r = 0; r < height; r++) {
    const light = 0.85 + 0.15 * Math.sin(r / 37);
    for (let c = 0; c < width; c++) {
      const p = r * width + c;
      const lane = Math.floor((c * 5) / width);
      const onProduct = lane % 2 === 1 && (r + 13 * lane) % 120 < 90;
      const material =
        foreign[p] === 1 ? materials[3] : onProduct ? materials[1 + ((lane >> 1) % 2)] : materials[0];
      const gain = light * (0.95 + (0.1 * ((c * 7 + r * 3) % 17)) / 17);
      const base = p * bands;
      for (let b = 0; b < bands; b++) {
        n = (n + 40503) & 0xffff;
        const v = (material as Float32Array)[b]! * gain + noise[n]!;
        data[base + b] = Math.min(4095, Math.max(0, v));
      }
    }
  }
  return { height, width, bands, wavelengths, data };
}
