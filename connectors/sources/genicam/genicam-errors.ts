/**
 * The two errors of the GenICam (Aravis) layer: the library is missing, or a camera call failed.
 * Both carry only plain fields so that they cross the acquisition worker's message port and are
 * rebuilt on the main thread with {@link genicamErrorFromWire}.
 */
import { CubestreamError } from '../../../src/core/errors.js';

/** The stable `code` of {@link AravisUnavailableError}. */
export const ARAVIS_UNAVAILABLE_CODE = 'aravis_unavailable';
/** The stable `code` of {@link GenicamError}. */
export const GENICAM_ERROR_CODE = 'genicam';

/**
 * Aravis (or koffi, the FFI that loads it) is not installed: GenICam cameras cannot be used. The
 * message is one line naming the fix.
 *
 * @example
 * ```ts
 * new AravisUnavailableError('libaravis-0.8.so.0', 'cannot open shared object file').message;
 * // "GenICam cameras need Aravis: apt-get install libaravis-0.8-0 aravis-tools (libaravis-0.8.so.0: cannot open shared object file)"
 * ```
 */
export class AravisUnavailableError extends CubestreamError {
  /** What could not be loaded: a shared library name, or `koffi`. */
  readonly missing: string;

  /**
   * @param missing - the library that failed to load (`koffi` for the FFI itself)
   * @param reason - the loader's message (dlopen's, or the import error's)
   */
  constructor(missing: string, reason: string) {
    const fix =
      missing === 'koffi'
        ? 'GenICam cameras need the koffi FFI: npm install koffi'
        : 'GenICam cameras need Aravis: apt-get install libaravis-0.8-0 aravis-tools';
    super(ARAVIS_UNAVAILABLE_CODE, `${fix} (${missing}: ${oneLine(reason)})`);
    this.missing = missing;
  }
}

/** Where a {@link GenicamError} came from and what Aravis said. */
export interface GenicamErrorDetails {
  /** The Aravis C function that failed, e.g. `arv_camera_set_integer`. */
  readonly call: string;
  /** The GenICam feature involved, e.g. `Width` (absent for calls on no feature). */
  readonly feature?: string;
  /** The value that was being set, rendered (absent for reads and non-feature calls). */
  readonly value?: string;
  /** GError domain name, e.g. `arv-gc-error-quark`, `arv-device-error-quark` (empty: not a GError). */
  readonly domain?: string;
  /** GError code within the domain (-1: not a GError). */
  readonly aravisCode?: number;
  /** Aravis's own message, e.g. `[Width] Value '5000' greater than allowed maximum '2048'`. */
  readonly detail: string;
}

/** `ArvDeviceError` codes that mean the link, not the request, failed (A:src/arvdevice.h). */
const TRANSIENT_DEVICE_ERRORS: ReadonlySet<number> = new Set([
  2, // NOT_CONNECTED
  3, // PROTOCOL_ERROR
  4, // TRANSFER_ERROR
  5, // TIMEOUT
  6, // NOT_FOUND (device gone)
  10, // NOT_CONTROLLER
  17, // PROTOCOL_ERROR_ACCESS_DENIED (another controller, e.g. an old session still alive)
  18, // PROTOCOL_ERROR_BUSY
]);

/**
 * A call into Aravis failed (code `genicam`): a feature the camera lacks, a value it refuses, a
 * timeout. The message names the call, the feature and the value. `transient` tells a failure of
 * the link (timeout, not connected, access denied: worth a reconnect) from a refused request (a
 * bad feature name or value: retrying cannot help).
 *
 * @example
 * ```ts
 * const error = new GenicamError({ call: 'arv_camera_set_integer', feature: 'Width', value: '5000',
 *   domain: 'arv-gc-error-quark', aravisCode: 4, detail: "[Width] Value '5000' greater than allowed maximum '2048'" });
 * error.message; // "GenICam Width = 5000: [Width] Value '5000' greater than allowed maximum '2048' (arv_camera_set_integer)"
 * error.transient; // false
 * ```
 */
export class GenicamError extends CubestreamError {
  /** The Aravis C function that failed. */
  readonly call: string;
  /** The feature involved, if any. */
  readonly feature: string | undefined;
  /** The value being set, if any. */
  readonly value: string | undefined;
  /** GError domain name ('' when the failure was detected here, not by Aravis). */
  readonly domain: string;
  /** GError code (-1 when not from a GError). */
  readonly aravisCode: number;
  /** Aravis's own message. */
  readonly detail: string;
  /** True when the link failed (retry after a reconnect may help), false for a refused request. */
  readonly transient: boolean;

  /** @param details - the failed call, feature, value and Aravis's error */
  constructor(details: GenicamErrorDetails) {
    const subject =
      details.feature === undefined
        ? details.call
        : details.value === undefined
          ? `GenICam ${details.feature}`
          : `GenICam ${details.feature} = ${details.value}`;
    const where = details.feature === undefined ? '' : ` (${details.call})`;
    super(GENICAM_ERROR_CODE, `${subject}: ${oneLine(details.detail)}${where}`);
    this.call = details.call;
    this.feature = details.feature;
    this.value = details.value;
    this.domain = details.domain ?? '';
    this.aravisCode = details.aravisCode ?? -1;
    this.detail = details.detail;
    this.transient = this.domain === 'arv-device-error-quark' && TRANSIENT_DEVICE_ERRORS.has(this.aravisCode);
  }
}

/** An error as it crosses the worker's message port (plain fields only). */
export type WireError =
  | { readonly kind: 'aravis_unavailable'; readonly missing: string; readonly message: string }
  | { readonly kind: 'genicam'; readonly details: GenicamErrorDetails }
  | { readonly kind: 'other'; readonly name: string; readonly message: string };

/**
 * The plain form of an error, to post from the acquisition worker.
 *
 * @example
 * ```ts
 * const wire = genicamErrorToWire(new Error('boom')); // { kind: 'other', name: 'Error', message: 'boom' }
 * genicamErrorFromWire(wire).message; // "boom"
 * ```
 */
export function genicamErrorToWire(error: unknown): WireError {
  if (error instanceof AravisUnavailableError)
    return { kind: 'aravis_unavailable', missing: error.missing, message: error.message };
  if (error instanceof GenicamError) {
    const { call, feature, value, domain, aravisCode, detail } = error;
    return {
      kind: 'genicam',
      details: {
        call,
        detail,
        domain,
        aravisCode,
        ...(feature === undefined ? {} : { feature }),
        ...(value === undefined ? {} : { value }),
      },
    };
  }
  const e = error instanceof Error ? error : new Error(String(error));
  return { kind: 'other', name: e.name, message: e.message };
}

/**
 * Rebuilds the error posted by {@link genicamErrorToWire}, with its class.
 *
 * @example
 * ```ts
 * const wire = genicamErrorToWire(new GenicamError({ call: 'arv_camera_new', detail: 'Device not found' }));
 * genicamErrorFromWire(wire) instanceof GenicamError; // true
 * ```
 */
export function genicamErrorFromWire(wire: WireError): Error {
  if (wire.kind === 'genicam') return new GenicamError(wire.details);
  if (wire.kind === 'aravis_unavailable') {
    const error = new AravisUnavailableError(wire.missing, '');
    error.message = wire.message;
    return error;
  }
  const error = new Error(wire.message);
  error.name = wire.name;
  return error;
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}
