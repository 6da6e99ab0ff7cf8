import { BAND_PREP_WASM_BASE64 } from './band-prep-wasm.js';
import { KernelError } from './kernel-error.js';
import { compileWasm, instantiateWasm, WASM_PAGE_BYTES, type WasmMemory } from './wasm-instance.js';

/** What {@link BandPrepKernel.prepare} does to a chunk of pixel-major spectra. */
export interface BandPrepSpec {
  /** Pixels in the chunk (rows of the input). */
  readonly pixels: number;
  /** Values per pixel in the input (channels). */
  readonly bands: number;
  /** First band kept (index into the pixel's values). */
  readonly lo: number;
  /** Bands kept, contiguous from `lo`: the output has `count` values per pixel. */
  readonly count: number;
  /** Subtract each pixel's mean over the kept bands and divide by max(its L2 norm, `eps`). */
  readonly unitNorm: boolean;
  /** Floor of the norm (default {@link DEFAULT_BAND_PREP_EPS}); must be > 0 so a flat pixel gives zeros. */
  readonly eps?: number;
}

/** Default norm floor, as in docs/maths.md §3.2 (`perPixelUnitNorm(eps=1e-8)`). */
export const DEFAULT_BAND_PREP_EPS = 1e-8;

/** Most bands per pixel the kernel takes (its int64 moments of uint16 values stay exact up to this). */
export const MAX_BAND_PREP_BANDS = 65_536;

/** Memory layout: the kernel's per-block scratch (512 bytes), then the input, then the output. */
const SCRATCH_PTR = 0;
const IN_PTR = 1024;

/** The wasm addresses are 32-bit: input plus output must fit in 4 GiB. */
const MAX_MEMORY_BYTES = 2 ** 32 - WASM_PAGE_BYTES;

type PrepFunction = (
  inPtr: number,
  outPtr: number,
  scratchPtr: number,
  pixels: number,
  bands: number,
  lo: number,
  count: number,
  eps: number,
  unitNorm: number,
) => void;

interface BandPrepExports {
  readonly memory: WasmMemory;
  readonly prep_u16: PrepFunction;
  readonly prep_f32: PrepFunction;
}

let compiled: object | undefined;

function bandPrepModule(): object {
  compiled ??= compileWasm(Buffer.from(BAND_PREP_WASM_BASE64, 'base64'));
  return compiled;
}

function checkInteger(field: string, value: number, min: number, max: number): void {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new KernelError('band-prep', `spec.${field}`, `${value} is not an integer in [${min}, ${max}]`);
  }
}

/** Checks a spec against its input; returns the norm floor to use. */
function validate(input: Uint16Array | Float32Array, spec: BandPrepSpec): number {
  if (!(input instanceof Uint16Array || input instanceof Float32Array)) {
    throw new KernelError('band-prep', 'input', 'must be a Uint16Array or a Float32Array');
  }
  checkInteger('pixels', spec.pixels, 0, Number.MAX_SAFE_INTEGER);
  checkInteger('bands', spec.bands, 1, MAX_BAND_PREP_BANDS);
  checkInteger('lo', spec.lo, 0, spec.bands - 1);
  checkInteger('count', spec.count, 1, spec.bands);
  if (spec.lo + spec.count > spec.bands) {
    throw new KernelError(
      'band-prep',
      'spec.count',
      `lo ${spec.lo} + count ${spec.count} > bands ${spec.bands}`,
    );
  }
  if (typeof spec.unitNorm !== 'boolean') {
    throw new KernelError('band-prep', 'spec.unitNorm', `${String(spec.unitNorm)} is not a boolean`);
  }
  const eps = spec.eps ?? DEFAULT_BAND_PREP_EPS;
  // The kernel takes eps as float32: it must stay > 0 there too.
  if (!Number.isFinite(eps) || Math.fround(eps) <= 0 || Math.fround(eps) === Number.POSITIVE_INFINITY) {
    throw new KernelError('band-prep', 'spec.eps', `${eps} is not a positive finite float32`);
  }
  if (input.length !== spec.pixels * spec.bands) {
    throw new KernelError(
      'band-prep',
      'input',
      `has ${input.length} values, pixels ${spec.pixels} x bands ${spec.bands} = ${spec.pixels * spec.bands}`,
    );
  }
  return eps;
}

/**
 * Band selection and per-pixel unit norm (docs/maths.md §3.1-3.2) as one WebAssembly SIMD pass over a
 * chunk: the head of the scoring graph (Slice, Cast, ReduceMean, Sub, ReduceSumSquare, Sqrt,
 * Max(eps), Div) for contiguous bands, feeding a graph that takes the prepared `[pixels, count]`
 * float32 values.
 *
 * For each pixel, with v_j its values `lo .. lo + count - 1` as float32: `unitNorm` false gives
 * v_j; true gives (v_j - mean) / max(sqrt(Σ (v_j - mean)²), eps). The mean is exact (integer
 * sums for uint16, float64 for float32) and the sum of squares centred (exact int64 moments for
 * uint16; a second float32 pass over the centred values for float32), so raw counts with a large
 * mean and a small spread keep their digits: within ~1.5e-7 of a float64 reference, where the
 * float32 onnxruntime graph is off by 4e-5 (counts 60000 + [0, 16), measured). A pixel of equal
 * values gives zeros.
 * See `band-prep.wat` for the kernel itself.
 *
 * One instance owns one wasm memory and is not reentrant; use one per thread (worker). The
 * memory grows to the largest chunk seen (1 KiB + input bytes + output bytes) and never shrinks.
 * The first call also compiles the kernel's fast tier in the background (a few ms); later calls
 * of an FX10 chunk (8,192 x 224 -> 112) take ~0.35 ms here, the copy included.
 *
 * @example
 * ```ts
 * import { Tensor } from 'onnxruntime-node';
 * const chunk = new Uint16Array(8192 * 224); // raw counts of 8,192 FX10 pixels
 * const kernel = BandPrepKernel.create();
 * const prepared = kernel.prepare(chunk, { pixels: 8192, bands: 224, lo: 112, count: 112, unitNorm: true });
 * const x = new Tensor('float32', prepared, [8192, 112]); // run it before the next prepare()
 * ```
 */
export class BandPrepKernel {
  readonly #exports: BandPrepExports;
  #buffer: ArrayBuffer;
  #u16: Uint16Array;
  #f32: Float32Array;

  private constructor(exports: BandPrepExports) {
    this.#exports = exports;
    this.#buffer = exports.memory.buffer;
    this.#u16 = new Uint16Array(this.#buffer);
    this.#f32 = new Float32Array(this.#buffer);
  }

  /**
   * Instantiates the kernel synchronously (the module is compiled once per thread and cached).
   *
   * @throws {@link KernelError} when this JavaScript engine cannot compile it (no WebAssembly SIMD)
   */
  static create(): BandPrepKernel {
    try {
      return new BandPrepKernel(instantiateWasm(bandPrepModule()) as unknown as BandPrepExports);
    } catch (cause) {
      const reason = cause instanceof Error ? cause.message : String(cause);
      throw new KernelError('band-prep', 'module', `cannot instantiate: ${reason}`, { cause });
    }
  }

  /** Bytes of wasm memory the kernel holds now (grows to fit the largest chunk). */
  get memoryBytes(): number {
    return this.#exports.memory.buffer.byteLength;
  }

  /**
   * Copies `input` (pixel-major `[pixels, bands]`, uint16 or float32, any buffer and offset,
   * a `SharedArrayBuffer` included) into wasm memory, runs the kernel once for the whole chunk and
   * returns the prepared values, float32 `[pixels, count]`.
   *
   * The result is a view on the kernel's memory, not a copy: it is valid until the next
   * `prepare` call on this instance (which overwrites it, or detaches it when memory grows).
   * Hand it to onnxruntime (`new Tensor('float32', view, [pixels, count])`) and run before that,
   * or `slice()` it to keep it.
   *
   * @throws {@link KernelError} naming the field, for a spec that is not integers in range,
   * `lo + count > bands`, an `eps` that is not > 0, or an input whose length is not pixels x bands;
   * or when the memory cannot grow to fit the chunk
   */
  prepare(input: Uint16Array | Float32Array, spec: BandPrepSpec): Float32Array {
    const eps = validate(input, spec);
    const { pixels, bands, lo, count } = spec;
    const inBytes = input.length * input.BYTES_PER_ELEMENT;
    const outPtr = IN_PTR + Math.ceil(inBytes / 16) * 16;
    this.#reserve(outPtr + pixels * count * 4);
    const norm = spec.unitNorm ? 1 : 0;
    if (input instanceof Uint16Array) {
      this.#u16.set(input, IN_PTR / 2);
      this.#exports.prep_u16(IN_PTR, outPtr, SCRATCH_PTR, pixels, bands, lo, count, eps, norm);
    } else {
      this.#f32.set(input, IN_PTR / 4);
      this.#exports.prep_f32(IN_PTR, outPtr, SCRATCH_PTR, pixels, bands, lo, count, eps, norm);
    }
    return new Float32Array(this.#buffer, outPtr, pixels * count);
  }

  /** Grows the memory to at least `bytes` and refreshes the views. */
  #reserve(bytes: number): void {
    const memory = this.#exports.memory;
    if (bytes > memory.buffer.byteLength) {
      if (bytes > MAX_MEMORY_BYTES) {
        throw new KernelError('band-prep', 'spec.pixels', `a chunk of ${bytes} bytes does not fit in 4 GiB`);
      }
      try {
        memory.grow(Math.ceil((bytes - memory.buffer.byteLength) / WASM_PAGE_BYTES));
      } catch (cause) {
        throw new KernelError('band-prep', 'spec.pixels', `cannot grow wasm memory to ${bytes} bytes`, {
          cause,
        });
      }
    }
    if (this.#buffer !== memory.buffer) {
      this.#buffer = memory.buffer;
      this.#u16 = new Uint16Array(this.#buffer);
      this.#f32 = new Float32Array(this.#buffer);
    }
  }
}
