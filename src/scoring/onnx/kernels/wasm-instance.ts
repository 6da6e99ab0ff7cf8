/**
 * The few WebAssembly JS API members the kernels use, typed here: this project compiles with
 * `lib: ES2022` and no DOM types, where `WebAssembly` is not declared.
 */

/** A `WebAssembly.Memory`: a growable, non-shared `ArrayBuffer` of 64 KiB pages. */
export interface WasmMemory {
  /** The current buffer; detached (and replaced) when the memory grows. */
  readonly buffer: ArrayBuffer;
  /** Adds `pages` pages of 64 KiB; returns the previous size in pages; throws `RangeError` if it cannot. */
  grow(pages: number): number;
}

/** Bytes in one WebAssembly memory page. */
export const WASM_PAGE_BYTES = 65_536;

interface WasmApi {
  readonly Module: new (bytes: Uint8Array) => object;
  readonly Instance: new (module: object, imports?: object) => { readonly exports: Record<string, unknown> };
}

const wasmApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/** Compiles a WebAssembly binary synchronously (fine for a small module on Node's main thread or a worker). */
export function compileWasm(bytes: Uint8Array): object {
  return new wasmApi.Module(bytes);
}

/**
 * Instantiates a compiled module synchronously and returns its exports.
 *
 * @example
 * ```ts
 * import { BAND_PREP_WASM_BASE64 } from './band-prep-wasm.js';
 * const exports = instantiateWasm(compileWasm(Buffer.from(BAND_PREP_WASM_BASE64, 'base64')));
 * const memory = exports.memory as WasmMemory;
 * ```
 */
export function instantiateWasm(module: object, imports: object = {}): Record<string, unknown> {
  return new wasmApi.Instance(module, imports).exports;
}
