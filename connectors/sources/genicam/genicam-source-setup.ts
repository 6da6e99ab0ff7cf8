/**
 * What the GenICam source reads from disk before it opens the camera: the bands' wavelengths
 * (a list in the configuration, or an ENVI header's `wavelength` field) and the dark and white
 * references that turn counts into reflectance, with the warnings they deserve at start.
 */
import { resolve } from 'node:path';
import { CubestreamError } from '../../../src/core/errors.js';
import { type ReflectanceGains, reflectanceGains } from '../../../src/core/reflectance.js';
import { readEnviHeader } from '../../../src/io/envi/index.js';
import {
  loadReferences,
  type ReferenceSettings,
  referenceWarnings,
  type StoredReferences,
} from '../../../src/model/radiometric-references.js';
import type { GenicamSourceSettings } from './genicam-source-options.js';
import type { BandWavelengths } from './line-block-builder.js';

/** An ENVI header named by `source.wavelengths.enviHeader` that gives no wavelengths (code `wavelengths`). */
export class WavelengthsSettingError extends CubestreamError {
  /** @param message - names the file and what is missing */
  constructor(message: string) {
    super('wavelengths', message);
  }
}

/**
 * The bands' wavelengths a `wavelengths` setting gives (nm), or undefined for band indices.
 * A relative header path resolves against the working directory.
 *
 * @throws `EnviHeaderError` for an unreadable header; {@link WavelengthsSettingError} for one
 *   without a `wavelength` field in nm or µm
 * @example
 * ```ts
 * await resolveWavelengths([400.1, 402.7]); // { values: Float32Array [400.1, 402.7], units: 'nm' }
 * ```
 */
export async function resolveWavelengths(
  setting: GenicamSourceSettings['wavelengths'],
): Promise<BandWavelengths | undefined> {
  if (setting === undefined) return undefined;
  if (Array.isArray(setting)) return { values: Float32Array.from(setting), units: 'nm' };
  const path = resolve(setting.enviHeader);
  const header = await readEnviHeader(path);
  if (header.wavelengths === undefined) {
    throw new WavelengthsSettingError(
      `source.wavelengths.enviHeader ${path} has no wavelength field in nm or µm: list the wavelengths or name another header`,
    );
  }
  return { values: Float32Array.from(header.wavelengths), units: 'nm' };
}

/** Loaded references and the gains applied to each line. */
export interface Calibration {
  readonly references: StoredReferences;
  readonly gains: ReflectanceGains;
}

/**
 * Loads a references folder (`cubestream calibrate`) and precomputes its gains.
 *
 * @throws `ReferencesFileError` / `ConfigError` naming the file at fault; `ReflectanceReferencesError`
 * @example
 * ```ts
 * const { gains } = await loadCalibration('calibration/line1');
 * ```
 */
export async function loadCalibration(dir: string): Promise<Calibration> {
  const references = await loadReferences(resolve(dir));
  return { references, gains: reflectanceGains(references) };
}

/**
 * Warnings about references at a camera's (re)open: older than `maxAgeHours`, taken with
 * another camera or other settings (each differing feature named), and dead pixel-bands (white
 * at or below dark: their reflectance is 0).
 *
 * @example
 * ```ts
 * declare const calibration: Calibration;
 * calibrationWarnings(calibration, { camera: { id: 'Aravis-Fake-GV01', vendor: 'Aravis', model: 'Fake', serial: 'GV01' }, features: { Width: 1024 } }, 24);
 * ```
 */
export function calibrationWarnings(
  calibration: Calibration,
  current: ReferenceSettings,
  maxAgeHours: number,
  now: number = Date.now(),
): string[] {
  const warnings = referenceWarnings(calibration.references, current.features, {
    maxAgeMs: maxAgeHours * 3_600_000,
    camera: current.camera,
    now,
  });
  const { deadCount, width, bands } = calibration.gains;
  if (deadCount > 0) {
    warnings.push(
      `reflectance references: ${deadCount} of ${width * bands} pixel-bands have white <= dark ` +
        '(no signal, saturated dark, or a dead pixel): their reflectance is 0',
    );
  }
  return warnings;
}
