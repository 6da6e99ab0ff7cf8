/**
 * GenICam features by name, whatever their node type: what kind a feature is (integer, float,
 * enumeration, ...), and setting or reading it with the matching Aravis call. A feature the
 * camera lacks is a {@link GenicamError} naming it.
 */
import { type AravisLibrary, GenicamError, type Pointer } from './aravis-library.js';

/** The value of a GenICam feature as this layer sets and reads it. */
export type FeatureValue = string | number | boolean;

/** The node kinds of GenICam features that this layer sets. */
export type FeatureKind = 'integer' | 'float' | 'string' | 'enumeration' | 'boolean' | 'command';

interface NodeTypes {
  readonly enumeration: number | bigint;
  readonly boolean: number | bigint;
  readonly command: number | bigint;
  readonly integer: number | bigint;
  readonly float: number | bigint;
  readonly string: number | bigint;
}

const typeCache = new WeakMap<AravisLibrary, NodeTypes>();

function nodeTypes(aravis: AravisLibrary): NodeTypes {
  let types = typeCache.get(aravis);
  if (types === undefined) {
    const { fn } = aravis;
    types = {
      enumeration: fn.arv_gc_enumeration_get_type(),
      boolean: fn.arv_gc_boolean_get_type(),
      command: fn.arv_gc_command_get_type(),
      integer: fn.arv_gc_integer_get_type(),
      float: fn.arv_gc_float_get_type(),
      string: fn.arv_gc_string_get_type(),
    };
    typeCache.set(aravis, types);
  }
  return types;
}

/** Checked in this order: an enumeration is also an integer (and a string) to GenICam. */
const KIND_ORDER: readonly FeatureKind[] = [
  'enumeration',
  'boolean',
  'command',
  'integer',
  'float',
  'string',
];

/**
 * The kind of the camera's feature `name`, or undefined when the camera has no such feature.
 *
 * @example
 * ```ts
 * import type { AravisLibrary, Pointer } from './aravis-library.js';
 * declare const aravis: AravisLibrary; declare const camera: Pointer;
 * featureKind(aravis, camera, 'Width'); // 'integer'
 * ```
 */
export function featureKind(aravis: AravisLibrary, camera: Pointer, name: string): FeatureKind | undefined {
  const device = aravis.fn.arv_camera_get_device(camera);
  if (device === null) return undefined;
  const node = aravis.fn.arv_device_get_feature(device, name);
  if (node === null) return undefined;
  const types = nodeTypes(aravis);
  return KIND_ORDER.find((kind) => aravis.fn.g_type_check_instance_is_a(node, types[kind]));
}

/** A {@link GenicamError} for a feature the camera does not have. */
export function missingFeature(names: readonly string[], value?: unknown): GenicamError {
  const [first = '?', ...others] = names;
  const detail =
    others.length === 0
      ? `the camera has no feature ${first}`
      : `the camera has none of the features ${names.join(', ')}`;
  return new GenicamError({
    call: 'arv_device_get_feature',
    feature: first,
    detail,
    ...(value === undefined ? {} : { value: String(value) }),
  });
}

/**
 * The first of `names` the camera has (e.g. `ExposureTime`, then the SFNC 1 name `ExposureTimeAbs`).
 *
 * @throws {@link GenicamError} naming them all when the camera has none of them
 * @example
 * ```ts
 * import type { AravisLibrary, Pointer } from './aravis-library.js';
 * declare const aravis: AravisLibrary; declare const camera: Pointer;
 * firstFeature(aravis, camera, ['ExposureTime', 'ExposureTimeAbs']); // 'ExposureTimeAbs' on the fake camera
 * ```
 */
export function firstFeature(
  aravis: AravisLibrary,
  camera: Pointer,
  names: readonly string[],
  value?: unknown,
): string {
  const found = names.find((name) => featureKind(aravis, camera, name) !== undefined);
  if (found === undefined) throw missingFeature(names, value);
  return found;
}

/**
 * Sets feature `name` to `value` with the call its kind needs (an enumeration by entry name, or by
 * its integer value; a command executes when `value` is true).
 *
 * @throws {@link GenicamError} when the camera lacks the feature, the value does not fit its kind,
 *   or the camera refuses it (out of range, not an entry, read-only, timeout)
 * @example
 * ```ts
 * import type { AravisLibrary, Pointer } from './aravis-library.js';
 * declare const aravis: AravisLibrary; declare const camera: Pointer;
 * setFeature(aravis, camera, 'Width', 1024);
 * setFeature(aravis, camera, 'PixelFormat', 'Mono16');
 * ```
 */
export function setFeature(aravis: AravisLibrary, camera: Pointer, name: string, value: FeatureValue): void {
  const kind = featureKind(aravis, camera, name);
  if (kind === undefined) throw missingFeature([name], value);
  const { fn } = aravis;
  const wrongType = (expected: string) =>
    new GenicamError({
      call: 'setFeature',
      feature: name,
      value: String(value),
      detail: `${name} needs ${expected}`,
    });
  switch (kind) {
    case 'command':
      if (value !== true) throw wrongType('true (it is a command: true executes it)');
      aravis.check('arv_camera_execute_command', (e) => fn.arv_camera_execute_command(camera, name, e), name);
      return;
    case 'boolean': {
      const flag =
        typeof value === 'boolean' ? value : value === 'true' ? true : value === 'false' ? false : undefined;
      if (flag === undefined) throw wrongType('true or false');
      aravis.check(
        'arv_camera_set_boolean',
        (e) => fn.arv_camera_set_boolean(camera, name, flag, e),
        name,
        flag,
      );
      return;
    }
    case 'integer': {
      const number = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
      if (typeof number !== 'number' || !Number.isSafeInteger(number)) throw wrongType('an integer');
      aravis.check(
        'arv_camera_set_integer',
        (e) => fn.arv_camera_set_integer(camera, name, number, e),
        name,
        number,
      );
      return;
    }
    case 'float': {
      const number = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
      if (typeof number !== 'number' || !Number.isFinite(number)) throw wrongType('a number');
      aravis.check(
        'arv_camera_set_float',
        (e) => fn.arv_camera_set_float(camera, name, number, e),
        name,
        number,
      );
      return;
    }
    case 'enumeration':
      if (typeof value === 'number') {
        aravis.check(
          'arv_camera_set_integer',
          (e) => fn.arv_camera_set_integer(camera, name, value, e),
          name,
          value,
        );
        return;
      }
      if (typeof value !== 'string') throw wrongType('an entry name');
      aravis.check(
        'arv_camera_set_string',
        (e) => fn.arv_camera_set_string(camera, name, value, e),
        name,
        value,
      );
      return;
    case 'string':
      aravis.check(
        'arv_camera_set_string',
        (e) => fn.arv_camera_set_string(camera, name, String(value), e),
        name,
        value,
      );
      return;
  }
}

/**
 * The current value of feature `name` (an enumeration as its entry name).
 *
 * @throws {@link GenicamError} when the camera lacks the feature or the read fails; a command has no value
 * @example
 * ```ts
 * import type { AravisLibrary, Pointer } from './aravis-library.js';
 * declare const aravis: AravisLibrary; declare const camera: Pointer;
 * readFeature(aravis, camera, 'PixelFormat'); // 'Mono8'
 * ```
 */
export function readFeature(aravis: AravisLibrary, camera: Pointer, name: string): FeatureValue {
  const kind = featureKind(aravis, camera, name);
  if (kind === undefined) throw missingFeature([name]);
  const { fn } = aravis;
  switch (kind) {
    case 'boolean':
      return aravis.check('arv_camera_get_boolean', (e) => fn.arv_camera_get_boolean(camera, name, e), name);
    case 'integer':
      return Number(
        aravis.check('arv_camera_get_integer', (e) => fn.arv_camera_get_integer(camera, name, e), name),
      );
    case 'float':
      return aravis.check('arv_camera_get_float', (e) => fn.arv_camera_get_float(camera, name, e), name);
    case 'enumeration':
    case 'string':
      return (
        aravis.check('arv_camera_get_string', (e) => fn.arv_camera_get_string(camera, name, e), name) ?? ''
      );
    case 'command':
      throw new GenicamError({
        call: 'readFeature',
        feature: name,
        detail: `${name} is a command: it has no value`,
      });
  }
}

/**
 * The entries of enumeration `name` the camera offers now (e.g. its pixel formats).
 *
 * @example
 * ```ts
 * import type { AravisLibrary, Pointer } from './aravis-library.js';
 * declare const aravis: AravisLibrary; declare const camera: Pointer;
 * enumerationEntries(aravis, camera, 'PixelFormat'); // ['BayerBG8', ..., 'Mono8', 'RGB8', 'Mono16']
 * ```
 */
export function enumerationEntries(aravis: AravisLibrary, camera: Pointer, name: string): string[] {
  const count: [number | bigint] = [0];
  const list = aravis.check(
    'arv_camera_dup_available_enumerations_as_strings',
    (e) => aravis.fn.arv_camera_dup_available_enumerations_as_strings(camera, name, count, e),
    name,
  );
  return list === null ? [] : aravis.takeStrings(list, Number(count[0]));
}
