/**
 * Aravis 0.8 (`libaravis-0.8.so.0`) through koffi: loaded once, lazily, with the C functions the
 * GenICam layer calls, and the one helper that turns a `GError` into a {@link GenicamError}.
 * koffi is an optional dependency and Aravis a system package: without either, loading throws an
 * {@link AravisUnavailableError} whose one-line message names the fix, and nothing else changes.
 *
 * Thread use: every function here is synchronous and blocks its caller (a GigE Vision control
 * call waits for the camera's acknowledgement, up to seconds when it is gone). The acquisition
 * worker calls them from its own thread; the main thread only uses `updateDeviceListAsync`.
 */
import { AravisUnavailableError, GenicamError } from './genicam-errors.js';

export {
  ARAVIS_UNAVAILABLE_CODE,
  AravisUnavailableError,
  GENICAM_ERROR_CODE,
  GenicamError,
  type GenicamErrorDetails,
} from './genicam-errors.js';

/** A C pointer as koffi 3 passes it (a BigInt address; `null` is NULL). */
export type Pointer = bigint;

/** The `GError **` out-slot of an Aravis call: koffi writes the error pointer into element 0. */
export type GErrorSlot = [Pointer | null];

/** A numeric out-slot (`guint64 *`, `double *`, `size_t *`): koffi writes element 0. */
export type NumberSlot = [number | bigint];

/** Default shared library names (Debian `libaravis-0.8-0` and GLib). */
export const ARAVIS_LIBRARY = 'libaravis-0.8.so.0';
const GOBJECT_LIBRARY = 'libgobject-2.0.so.0';
const GLIB_LIBRARY = 'libglib-2.0.so.0';
const LIBC_LIBRARY = 'libc.so.6';

/** `ArvRangeCheckPolicy` ENABLE (A:src/arvgc.h): out-of-range feature values fail instead of being written. */
export const RANGE_CHECK_ENABLE = 1;

/** `ArvBufferStatus` names by value (A:src/arvbuffer.h); -1 is UNKNOWN. */
export const BUFFER_STATUS_NAMES: Readonly<Record<number, string>> = {
  [-1]: 'UNKNOWN',
  0: 'SUCCESS',
  1: 'CLEARED',
  2: 'TIMEOUT',
  3: 'MISSING_PACKETS',
  4: 'WRONG_PACKET_ID',
  5: 'SIZE_MISMATCH',
  6: 'FILLING',
  7: 'ABORTED',
  8: 'PAYLOAD_NOT_SUPPORTED',
};

/** The Aravis, GObject and libc functions the GenICam layer calls, with their C signatures. */
export interface AravisFunctions {
  // Discovery (process-wide device list: call under the discovery lock).
  arv_update_device_list(): void;
  arv_get_n_devices(): number;
  arv_get_device_id(index: number): string | null;
  arv_get_device_vendor(index: number): string | null;
  arv_get_device_model(index: number): string | null;
  arv_get_device_serial_nbr(index: number): string | null;
  arv_get_device_address(index: number): string | null;
  arv_get_device_protocol(index: number): string | null;
  // Camera.
  arv_camera_new(name: string, error: GErrorSlot): Pointer | null;
  arv_camera_get_device(camera: Pointer): Pointer | null;
  arv_camera_get_device_id(camera: Pointer, error: GErrorSlot): string | null;
  arv_camera_get_vendor_name(camera: Pointer, error: GErrorSlot): string | null;
  arv_camera_get_model_name(camera: Pointer, error: GErrorSlot): string | null;
  arv_camera_get_device_serial_number(camera: Pointer, error: GErrorSlot): string | null;
  arv_camera_is_gv_device(camera: Pointer): boolean;
  arv_camera_set_range_check_policy(camera: Pointer, policy: number): void;
  arv_camera_is_feature_available(camera: Pointer, feature: string, error: GErrorSlot): boolean;
  arv_camera_set_integer(camera: Pointer, feature: string, value: number, error: GErrorSlot): void;
  arv_camera_get_integer(camera: Pointer, feature: string, error: GErrorSlot): number | bigint;
  arv_camera_set_float(camera: Pointer, feature: string, value: number, error: GErrorSlot): void;
  arv_camera_get_float(camera: Pointer, feature: string, error: GErrorSlot): number;
  arv_camera_set_string(camera: Pointer, feature: string, value: string, error: GErrorSlot): void;
  arv_camera_get_string(camera: Pointer, feature: string, error: GErrorSlot): string | null;
  arv_camera_set_boolean(camera: Pointer, feature: string, value: boolean, error: GErrorSlot): void;
  arv_camera_get_boolean(camera: Pointer, feature: string, error: GErrorSlot): boolean;
  arv_camera_execute_command(camera: Pointer, feature: string, error: GErrorSlot): void;
  arv_camera_dup_available_enumerations_as_strings(
    camera: Pointer,
    feature: string,
    count: NumberSlot,
    error: GErrorSlot,
  ): Pointer | null;
  arv_camera_get_frame_rate_bounds(
    camera: Pointer,
    min: NumberSlot,
    max: NumberSlot,
    error: GErrorSlot,
  ): void;
  arv_camera_set_frame_rate(camera: Pointer, rate: number, error: GErrorSlot): void;
  arv_camera_get_frame_rate(camera: Pointer, error: GErrorSlot): number;
  arv_camera_gv_set_packet_size(camera: Pointer, size: number, error: GErrorSlot): void;
  arv_camera_gv_get_packet_size(camera: Pointer, error: GErrorSlot): number;
  arv_camera_get_payload(camera: Pointer, error: GErrorSlot): number;
  arv_camera_create_stream(
    camera: Pointer,
    callback: null,
    userData: null,
    error: GErrorSlot,
  ): Pointer | null;
  arv_camera_start_acquisition(camera: Pointer, error: GErrorSlot): void;
  arv_camera_stop_acquisition(camera: Pointer, error: GErrorSlot): void;
  // Features by node (to know a feature's type).
  arv_device_get_feature(device: Pointer, feature: string): Pointer | null;
  arv_gv_device_is_controller(device: Pointer): boolean;
  arv_gc_boolean_get_type(): number | bigint;
  arv_gc_command_get_type(): number | bigint;
  arv_gc_enumeration_get_type(): number | bigint;
  arv_gc_float_get_type(): number | bigint;
  arv_gc_integer_get_type(): number | bigint;
  arv_gc_string_get_type(): number | bigint;
  g_type_check_instance_is_a(instance: Pointer, type: number | bigint): boolean;
  // Stream and buffers.
  arv_buffer_new_allocate(size: number): Pointer | null;
  arv_stream_push_buffer(stream: Pointer, buffer: Pointer): void;
  arv_stream_timeout_pop_buffer(stream: Pointer, timeoutUs: number): Pointer | null;
  arv_buffer_get_status(buffer: Pointer): number;
  arv_buffer_get_frame_id(buffer: Pointer): number | bigint;
  arv_buffer_get_timestamp(buffer: Pointer): number | bigint;
  arv_buffer_get_system_timestamp(buffer: Pointer): number | bigint;
  arv_buffer_get_data(buffer: Pointer, size: NumberSlot): Pointer | null;
  arv_buffer_get_image_width(buffer: Pointer): number;
  arv_buffer_get_image_height(buffer: Pointer): number;
  arv_buffer_get_image_pixel_format(buffer: Pointer): number;
  arv_stream_get_statistics(
    stream: Pointer,
    completed: NumberSlot,
    failures: NumberSlot,
    underruns: NumberSlot,
  ): void;
  arv_gv_stream_get_statistics(stream: Pointer, resent: NumberSlot, missing: NumberSlot): void;
  // GLib / GObject.
  g_object_unref(object: Pointer): void;
  g_error_free(error: Pointer): void;
  g_free(memory: Pointer): void;
  g_quark_to_string(quark: number): string | null;
}

/** The C declarations, koffi syntax, by library. */
const ARAVIS_DECLARATIONS: readonly string[] = [
  'void arv_update_device_list()',
  'unsigned int arv_get_n_devices()',
  'const char *arv_get_device_id(unsigned int index)',
  'const char *arv_get_device_vendor(unsigned int index)',
  'const char *arv_get_device_model(unsigned int index)',
  'const char *arv_get_device_serial_nbr(unsigned int index)',
  'const char *arv_get_device_address(unsigned int index)',
  'const char *arv_get_device_protocol(unsigned int index)',
  'void *arv_camera_new(const char *name, _Out_ void **error)',
  'void *arv_camera_get_device(void *camera)',
  'const char *arv_camera_get_device_id(void *camera, _Out_ void **error)',
  'const char *arv_camera_get_vendor_name(void *camera, _Out_ void **error)',
  'const char *arv_camera_get_model_name(void *camera, _Out_ void **error)',
  'const char *arv_camera_get_device_serial_number(void *camera, _Out_ void **error)',
  'bool arv_camera_is_gv_device(void *camera)',
  'void arv_camera_set_range_check_policy(void *camera, int policy)',
  'bool arv_camera_is_feature_available(void *camera, const char *feature, _Out_ void **error)',
  'void arv_camera_set_integer(void *camera, const char *feature, int64_t value, _Out_ void **error)',
  'int64_t arv_camera_get_integer(void *camera, const char *feature, _Out_ void **error)',
  'void arv_camera_set_float(void *camera, const char *feature, double value, _Out_ void **error)',
  'double arv_camera_get_float(void *camera, const char *feature, _Out_ void **error)',
  'void arv_camera_set_string(void *camera, const char *feature, const char *value, _Out_ void **error)',
  'const char *arv_camera_get_string(void *camera, const char *feature, _Out_ void **error)',
  'void arv_camera_set_boolean(void *camera, const char *feature, bool value, _Out_ void **error)',
  'bool arv_camera_get_boolean(void *camera, const char *feature, _Out_ void **error)',
  'void arv_camera_execute_command(void *camera, const char *feature, _Out_ void **error)',
  'void *arv_camera_dup_available_enumerations_as_strings(void *camera, const char *feature, _Out_ uint32_t *count, _Out_ void **error)',
  'void arv_camera_get_frame_rate_bounds(void *camera, _Out_ double *min, _Out_ double *max, _Out_ void **error)',
  'void arv_camera_set_frame_rate(void *camera, double rate, _Out_ void **error)',
  'double arv_camera_get_frame_rate(void *camera, _Out_ void **error)',
  'void arv_camera_gv_set_packet_size(void *camera, int size, _Out_ void **error)',
  'unsigned int arv_camera_gv_get_packet_size(void *camera, _Out_ void **error)',
  'uint32_t arv_camera_get_payload(void *camera, _Out_ void **error)',
  'void *arv_camera_create_stream(void *camera, void *callback, void *user_data, _Out_ void **error)',
  'void arv_camera_start_acquisition(void *camera, _Out_ void **error)',
  'void arv_camera_stop_acquisition(void *camera, _Out_ void **error)',
  'void *arv_device_get_feature(void *device, const char *feature)',
  'bool arv_gv_device_is_controller(void *device)',
  'size_t arv_gc_boolean_get_type()',
  'size_t arv_gc_command_get_type()',
  'size_t arv_gc_enumeration_get_type()',
  'size_t arv_gc_float_get_type()',
  'size_t arv_gc_integer_get_type()',
  'size_t arv_gc_string_get_type()',
  'void *arv_buffer_new_allocate(size_t size)',
  'void arv_stream_push_buffer(void *stream, void *buffer)',
  'void *arv_stream_timeout_pop_buffer(void *stream, uint64_t timeout_us)',
  'int arv_buffer_get_status(void *buffer)',
  'uint64_t arv_buffer_get_frame_id(void *buffer)',
  'uint64_t arv_buffer_get_timestamp(void *buffer)',
  'uint64_t arv_buffer_get_system_timestamp(void *buffer)',
  'void *arv_buffer_get_data(void *buffer, _Out_ size_t *size)',
  'int arv_buffer_get_image_width(void *buffer)',
  'int arv_buffer_get_image_height(void *buffer)',
  'uint32_t arv_buffer_get_image_pixel_format(void *buffer)',
  'void arv_stream_get_statistics(void *stream, _Out_ uint64_t *completed, _Out_ uint64_t *failures, _Out_ uint64_t *underruns)',
  'void arv_gv_stream_get_statistics(void *stream, _Out_ uint64_t *resent, _Out_ uint64_t *missing)',
];
const GOBJECT_DECLARATIONS: readonly string[] = [
  'void g_object_unref(void *object)',
  'bool g_type_check_instance_is_a(void *instance, size_t type)',
];
const GLIB_DECLARATIONS: readonly string[] = [
  'void g_error_free(void *error)',
  'void g_free(void *memory)',
  'const char *g_quark_to_string(uint32_t quark)',
];

/** A loaded Aravis: its functions and the helpers that wrap koffi's memory access. */
export interface AravisLibrary {
  /** The C functions (synchronous, blocking). */
  readonly fn: AravisFunctions;
  /** `arv_update_device_list` on a koffi thread, so that discovery does not block the caller's loop. */
  updateDeviceListAsync(): Promise<void>;
  /**
   * Runs `call(slot)` and throws a {@link GenicamError} naming `name`, `feature` and `value` when
   * Aravis filled the `GError` (the error is decoded and freed here, the one place that does).
   */
  check<T>(name: string, call: (slot: GErrorSlot) => T, feature?: string, value?: unknown): T;
  /** The C string array `strings[0..count)` (e.g. from a `dup_..._as_strings` call), then `g_free`s it. */
  takeStrings(strings: Pointer, count: number): string[];
  /** Copies `bytes` bytes from C memory at `source` into `target` (a view, e.g. on a SharedArrayBuffer). */
  copyInto(target: Uint8Array, source: Pointer, bytes: number): void;
  /** `g_object_set(object, property, value, NULL)` for an int or enum property (a GObject varargs call). */
  setObjectInt(object: Pointer, property: string, value: number): void;
}

/** Options of {@link loadAravis}: which shared libraries to load (tests inject a wrong one). */
export interface LoadAravisOptions {
  /** Aravis's shared library (default {@link ARAVIS_LIBRARY}). */
  readonly library?: string;
}

type Koffi = typeof import('koffi').default;

const loaded = new Map<string, Promise<AravisLibrary>>();

/**
 * Loads koffi and Aravis (once per library name; later calls share the first load).
 *
 * @throws {@link AravisUnavailableError} (rejects) when koffi or a library cannot be loaded; the
 *   one-line message names the package to install
 * @example
 * ```ts
 * const aravis = await loadAravis();
 * aravis.fn.arv_update_device_list();
 * const count = aravis.fn.arv_get_n_devices();
 * ```
 */
export function loadAravis(options: LoadAravisOptions = {}): Promise<AravisLibrary> {
  const library = options.library ?? ARAVIS_LIBRARY;
  let pending = loaded.get(library);
  if (pending === undefined) {
    pending = load(library);
    loaded.set(library, pending);
    // A failed load is not cached: the package may be installed while the service runs.
    pending.catch(() => loaded.delete(library));
  }
  return pending;
}

/**
 * True when koffi and Aravis load on this machine (GenICam cameras can be used).
 *
 * @example
 * ```ts
 * if (!(await aravisAvailable())) console.log('no GenICam support here');
 * ```
 */
export async function aravisAvailable(): Promise<boolean> {
  try {
    await loadAravis();
    return true;
  } catch {
    return false;
  }
}

async function importKoffi(): Promise<Koffi> {
  try {
    const module = await import('koffi');
    return module.default;
  } catch (error) {
    throw new AravisUnavailableError('koffi', error instanceof Error ? error.message : String(error));
  }
}

function openLibrary(koffi: Koffi, name: string): ReturnType<Koffi['load']> {
  try {
    return koffi.load(name);
  } catch (error) {
    throw new AravisUnavailableError(name, error instanceof Error ? error.message : String(error));
  }
}

async function load(library: string): Promise<AravisLibrary> {
  const koffi = await importKoffi();
  const aravis = openLibrary(koffi, library);
  const gobject = openLibrary(koffi, GOBJECT_LIBRARY);
  const glib = openLibrary(koffi, GLIB_LIBRARY);
  const table: Record<string, unknown> = {};
  const declare = (lib: ReturnType<Koffi['load']>, declarations: readonly string[], from: string) => {
    for (const declaration of declarations) {
      const name = /([a-z_0-9]+)\(/.exec(declaration)?.[1];
      if (name === undefined) throw new Error(`bad C declaration: ${declaration}`);
      try {
        table[name] = lib.func(declaration);
      } catch (error) {
        throw new AravisUnavailableError(
          from,
          `${name}: ${error instanceof Error ? error.message : String(error)} (Aravis 0.8.22 or later is needed)`,
        );
      }
    }
  };
  declare(aravis, ARAVIS_DECLARATIONS, library);
  declare(gobject, GOBJECT_DECLARATIONS, GOBJECT_LIBRARY);
  declare(glib, GLIB_DECLARATIONS, GLIB_LIBRARY);
  const fn = table as unknown as AravisFunctions;
  const updateAsync = (table.arv_update_device_list as { async: (cb: (error: unknown) => void) => void })
    .async;
  const objectSet = gobject.func('void g_object_set(void *object, const char *name, ...)');
  const GError = koffi.struct('CubestreamGError', {
    domain: 'uint32_t',
    code: 'int',
    message: 'const char *',
  });
  const memcpy = libcMemcpy(koffi);

  return {
    fn,
    updateDeviceListAsync: () =>
      new Promise<void>((resolve, reject) => {
        updateAsync((error: unknown) => (error ? reject(error) : resolve()));
      }),
    check<T>(name: string, call: (slot: GErrorSlot) => T, feature?: string, value?: unknown): T {
      const slot: GErrorSlot = [null];
      const result = call(slot);
      const error = slot[0];
      if (error === null || error === 0n) return result;
      const decoded = koffi.decode(error, GError) as { domain: number; code: number; message: string | null };
      const domain = fn.g_quark_to_string(decoded.domain) ?? '';
      const detail = decoded.message ?? '(no message)';
      fn.g_error_free(error);
      throw new GenicamError({
        call: name,
        detail,
        domain,
        aravisCode: decoded.code,
        ...(feature === undefined ? {} : { feature }),
        ...(value === undefined ? {} : { value: String(value) }),
      });
    },
    takeStrings(strings: Pointer, count: number): string[] {
      const list = count > 0 ? (koffi.decode(strings, 'const char *', count) as (string | null)[]) : [];
      fn.g_free(strings);
      return list.map((s) => s ?? '');
    },
    copyInto(target: Uint8Array, source: Pointer, bytes: number): void {
      if (memcpy !== undefined) memcpy(target, source, bytes);
      else target.set(new Uint8Array(koffi.view(source, bytes)));
    },
    setObjectInt(object: Pointer, property: string, value: number): void {
      objectSet(object, property, 'int', value, 'void *', null);
    },
  };
}

/** libc's memcpy (copies without allocating), or undefined where there is no glibc (then `koffi.view`). */
function libcMemcpy(
  koffi: Koffi,
): ((target: Uint8Array, source: Pointer, bytes: number) => void) | undefined {
  try {
    return koffi.load(LIBC_LIBRARY).func('void *memcpy(void *target, const void *source, size_t bytes)');
  } catch {
    return undefined;
  }
}
