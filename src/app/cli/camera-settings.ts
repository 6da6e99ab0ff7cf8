import {
  type GenicamSourceSettings,
  GenicamSourceSettingsSchema,
} from '../../../connectors/sources/genicam/genicam-source-options.js';
import { validateConfig } from '../../core/validate.js';
import { loadRunConfig } from '../service/run-config.js';
import { type CliOptions, type CliValues, numberOption, stringOption, UsageError } from './command.js';

/**
 * The GenICam options of {@link CAMERA_SETUP_OPTIONS} but the camera flag: a run config whose
 * `source` (kind `genicam`) gives the settings, and one flag per common GenICam feature. `cubestream
 * publish --from genicam` takes these with `--device` naming the camera (its `--camera` is the
 * cubestream camera id).
 */
export const CAMERA_FEATURE_OPTIONS: CliOptions = {
  config: { type: 'string' },
  width: { type: 'string' },
  height: { type: 'string' },
  'offset-x': { type: 'string' },
  'offset-y': { type: 'string' },
  'binning-horizontal': { type: 'string' },
  'binning-vertical': { type: 'string' },
  'pixel-format': { type: 'string' },
  'exposure-us': { type: 'string' },
  'frame-rate': { type: 'string' },
  'trigger-mode': { type: 'string' },
  'trigger-source': { type: 'string' },
  'packet-size': { type: 'string' },
  feature: { type: 'string', multiple: true },
  'line-layout': { type: 'string' },
  wavelengths: { type: 'string' },
};

/**
 * The options `cubestream calibrate` and `capture` share to pick a camera and set it up: the
 * camera, a run config whose `source` (kind `genicam`) gives the settings, and one flag per
 * common GenICam feature (flags win over the config).
 */
export const CAMERA_SETUP_OPTIONS: CliOptions = {
  camera: { type: 'string' },
  ...CAMERA_FEATURE_OPTIONS,
};

/** The usage lines of {@link CAMERA_FEATURE_OPTIONS}, for `--help`. */
export const CAMERA_FEATURE_USAGE = `  --config FILE          a run config whose source (kind: genicam) gives camera and settings
  --width N --height N --offset-x N --offset-y N --binning-horizontal N --binning-vertical N
  --pixel-format NAME    Mono8, Mono10, Mono12, Mono12Packed, Mono12p or Mono16
  --exposure-us US --frame-rate HZ --trigger-mode On|Off --trigger-source NAME --packet-size BYTES
  --feature NAME=VALUE   any other GenICam feature, set last (repeatable)
  --line-layout L        bands-rows (Height = bands, default) or bands-columns
  --wavelengths FILE.hdr an ENVI header whose wavelength list gives the band centres
  --wavelengths NM,NM,.. or the band centres in nm, one per band`;

/** The usage lines of {@link CAMERA_SETUP_OPTIONS}, for `--help`. */
export const CAMERA_SETUP_USAGE = `  --camera ID            Aravis device id (cubestream cameras), IP address or serial
${CAMERA_FEATURE_USAGE}`;

const INTEGER_FLAGS: readonly [flag: string, feature: string][] = [
  ['width', 'width'],
  ['height', 'height'],
  ['offset-x', 'offsetX'],
  ['offset-y', 'offsetY'],
  ['binning-horizontal', 'binningHorizontal'],
  ['binning-vertical', 'binningVertical'],
  ['packet-size', 'packetSize'],
];
const NUMBER_FLAGS: readonly [flag: string, feature: string][] = [
  ['exposure-us', 'exposureUs'],
  ['frame-rate', 'frameRate'],
];
const STRING_FLAGS: readonly [flag: string, feature: string][] = [
  ['pixel-format', 'pixelFormat'],
  ['trigger-mode', 'triggerMode'],
  ['trigger-source', 'triggerSource'],
];

/** `NAME=VALUE`: numbers and true/false typed, the rest text. */
/**
 * The `NAME=VALUE` assignments of a repeatable flag (`--feature`, `--dark-feature`), as GenICam
 * feature values: numbers and `true`/`false` typed, the rest text; undefined when not given.
 *
 * @throws {@link UsageError} naming the flag for an item without `=`
 * @example
 * ```ts
 * featureAssignments({ feature: ['ExposureTimeAbs=1000', 'LineInverter=true'] }, 'feature');
 * // { ExposureTimeAbs: 1000, LineInverter: true }
 * ```
 */
export function featureAssignments(
  values: CliValues,
  flag: string,
): Record<string, string | number | boolean> | undefined {
  const raw = values[flag];
  if (raw === undefined) return undefined;
  const extra: Record<string, string | number | boolean> = {};
  for (const item of Array.isArray(raw) ? raw : [raw]) {
    const eq = typeof item === 'string' ? item.indexOf('=') : -1;
    if (typeof item !== 'string' || eq <= 0) {
      throw new UsageError(`--${flag} needs NAME=VALUE, got ${JSON.stringify(item)}`);
    }
    const text = item.slice(eq + 1);
    const number = Number(text);
    extra[item.slice(0, eq)] =
      text === 'true'
        ? true
        : text === 'false'
          ? false
          : text.trim() !== '' && Number.isFinite(number)
            ? number
            : text;
  }
  return extra;
}

/** The feature flags given, as `GenicamFeaturesSchema` fields (not yet validated). */
function featureFlags(values: CliValues): Record<string, unknown> {
  const features: Record<string, unknown> = {};
  for (const [flag, feature] of INTEGER_FLAGS) {
    if (values[flag] !== undefined)
      features[feature] = numberOption(values, flag, 0, { integer: true, min: 0 });
  }
  for (const [flag, feature] of NUMBER_FLAGS) {
    if (values[flag] !== undefined) features[feature] = numberOption(values, flag, 0, { min: 0 });
  }
  for (const [flag, feature] of STRING_FLAGS) {
    const value = stringOption(values, flag);
    if (value !== undefined) features[feature] = value;
  }
  const extra = featureAssignments(values, 'feature');
  if (extra !== undefined) features.extra = extra;
  return features;
}

/** A comma-separated list of numbers (`400,410.5,421`): band centres in nm, not a file name. */
const WAVELENGTH_LIST = /^\s*\d+(\.\d+)?(\s*,\s*\d+(\.\d+)?)*\s*$/;

/** Options of {@link cameraSettingsOf}. */
export interface CameraSettingsFlags {
  /** The flag that names the camera (Aravis id, IP address or serial): default `camera`. */
  readonly deviceFlag?: string;
}

/**
 * The camera settings of a `calibrate`, `capture` or `publish --from genicam` command line: the
 * `source` of `--config` (which must be of kind `genicam`), else defaults; the camera flag
 * (`--camera`, or `deviceFlag`), the feature flags (merged over the config's features,
 * `--feature` over its `extra`), `--line-layout` and `--wavelengths` (an ENVI header, or a
 * comma-separated list of centres in nm) win.
 *
 * @throws {@link UsageError} without a camera, for a bad flag or a config of another source kind;
 *   `ConfigError` naming the field for a value the settings schema refuses
 * @example
 * ```ts
 * await cameraSettingsOf({ camera: '127.0.0.1', width: '1024', height: '224', 'pixel-format': 'Mono16' });
 * // { camera: '127.0.0.1', features: { width: 1024, height: 224, pixelFormat: 'Mono16' }, lineLayout: 'bands-rows', ... }
 * await cameraSettingsOf({ device: '127.0.0.1', height: '3', wavelengths: '450,550,650' }, { deviceFlag: 'device' });
 * // { camera: '127.0.0.1', features: { height: 3 }, wavelengths: [450, 550, 650], ... }
 * ```
 */
export async function cameraSettingsOf(
  values: CliValues,
  flags: CameraSettingsFlags = {},
): Promise<GenicamSourceSettings> {
  const deviceFlag = flags.deviceFlag ?? 'camera';
  const configFile = stringOption(values, 'config');
  let base: Record<string, unknown> = {};
  if (configFile !== undefined) {
    const { source } = await loadRunConfig(configFile);
    if (source.kind !== 'genicam') {
      throw new UsageError(`--config ${configFile} has a source of kind ${source.kind}, not genicam`);
    }
    const { kind: _kind, ...settings } = source;
    base = settings;
  }
  const baseFeatures = (base.features ?? {}) as Record<string, unknown>;
  const features = featureFlags(values);
  const extra =
    features.extra === undefined
      ? baseFeatures.extra
      : { ...((baseFeatures.extra as object | undefined) ?? {}), ...(features.extra as object) };
  const camera = stringOption(values, deviceFlag) ?? base.camera;
  if (camera === undefined)
    throw new UsageError(`missing required option --${deviceFlag} (or a --config naming one)`);
  const lineLayout = stringOption(values, 'line-layout');
  const wavelengths = stringOption(values, 'wavelengths');
  const settings = {
    ...base,
    camera,
    features: { ...baseFeatures, ...features, ...(extra === undefined ? {} : { extra }) },
    ...(lineLayout === undefined ? {} : { lineLayout }),
    ...(wavelengths === undefined
      ? {}
      : {
          wavelengths: WAVELENGTH_LIST.test(wavelengths)
            ? wavelengths.split(',').map(Number)
            : { enviHeader: wavelengths },
        }),
  };
  return validateConfig(GenicamSourceSettingsSchema, settings, configFile ?? 'command line');
}
