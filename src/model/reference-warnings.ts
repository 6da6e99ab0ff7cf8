import { checkOption } from '../core/options.js';
import type { ReferenceSettings, StoredReferences } from './radiometric-references.js';

/** Options of {@link referenceWarnings}. */
export interface ReferenceWarningOptions {
  /** The time to age the references against, epoch ms (default now). */
  readonly now?: number;
  /** Age beyond which references are stale, ms (`Infinity`: never). */
  readonly maxAgeMs: number;
  /** The camera open now; warned about when it is not the one the references were taken with. */
  readonly camera?: ReferenceSettings['camera'];
}

/** References dated this far ahead of `now` point at a wrong clock (ms). */
const FUTURE_SLACK_MS = 60_000;

const UNITS: readonly (readonly [string, number])[] = [
  ['days', 86_400_000],
  ['hours', 3_600_000],
  ['minutes', 60_000],
];

/** `3.5 days`, `2 hours`, `45 seconds`: one unit, at most one decimal. */
function formatDuration(ms: number): string {
  for (const [unit, size] of UNITS) {
    if (ms >= size) return `${Number((ms / size).toFixed(1))} ${unit}`;
  }
  return `${Math.round(ms / 1000)} seconds`;
}

function sameValue(a: string | number | boolean, b: string | number | boolean): boolean {
  if (typeof a === 'number' && typeof b === 'number')
    return a === b || Math.abs(a - b) <= 1e-9 * Math.max(Math.abs(a), Math.abs(b));
  return a === b;
}

function describeCamera(camera: ReferenceSettings['camera']): string {
  return `${camera.vendor} ${camera.model} serial ${camera.serial} (${camera.id})`;
}

/**
 * What is wrong with using these references now, one line each (empty when nothing is):
 * references older than `maxAgeMs` (or dated in the future), taken with another camera (when
 * `options.camera` is given: vendor, model or serial differ), or with other settings: each
 * feature recorded at capture and read now with another value is named, e.g.
 * `Width: references 512, camera 1024`. A feature only one side has is not compared. The
 * caller logs them at start; they never stop a run (the lighting may simply not have changed).
 *
 * @throws {@link OptionError} when `maxAgeMs` is not a positive number
 * @example
 * ```ts
 * import { loadReferences } from './radiometric-references.js';
 * const refs = await loadReferences('calibration/line-3');
 * for (const warning of referenceWarnings(refs, { Width: 1024, ExposureTime: 2000 }, { maxAgeMs: 7 * 86_400_000 }))
 *   console.warn(warning);
 * // reflectance references taken with other settings: Width: references 512, camera 1024
 * ```
 */
export function referenceWarnings(
  refs: StoredReferences,
  current: ReferenceSettings['features'],
  options: ReferenceWarningOptions,
): string[] {
  const { maxAgeMs } = options;
  checkOption(
    typeof maxAgeMs === 'number' && maxAgeMs > 0,
    'calibration',
    'maxAgeMs',
    maxAgeMs,
    'must be a positive number of milliseconds (Infinity: never stale)',
  );
  const warnings: string[] = [];
  const now = options.now ?? Date.now();
  const takenAt = Date.parse(refs.takenAt);
  if (Number.isNaN(takenAt)) {
    warnings.push(
      `reflectance references: takenAt ${JSON.stringify(refs.takenAt)} is not a date, their age is unknown`,
    );
  } else if (now - takenAt > maxAgeMs) {
    warnings.push(
      `reflectance references taken ${refs.takenAt} are ${formatDuration(now - takenAt)} old, more than the ${formatDuration(maxAgeMs)} allowed: take new ones with cubestream calibrate`,
    );
  } else if (takenAt - now > FUTURE_SLACK_MS) {
    warnings.push(
      `reflectance references taken ${refs.takenAt} are dated ${formatDuration(takenAt - now)} in the future: check the clock`,
    );
  }
  const then = refs.settings.camera;
  const camera = options.camera;
  if (
    camera !== undefined &&
    (camera.serial !== then.serial || camera.model !== then.model || camera.vendor !== then.vendor)
  ) {
    warnings.push(
      `reflectance references taken with another camera: references ${describeCamera(then)}, camera ${describeCamera(camera)}`,
    );
  }
  const recorded = refs.settings.features;
  for (const name of Object.keys(recorded).sort()) {
    const before = recorded[name];
    const after = Object.hasOwn(current, name) ? current[name] : undefined;
    if (before === undefined || after === undefined || sameValue(before, after)) continue;
    warnings.push(
      `reflectance references taken with other settings: ${name}: references ${String(before)}, camera ${String(after)}`,
    );
  }
  return warnings;
}
