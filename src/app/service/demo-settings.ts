/**
 * What `cubestream demo` runs: the simulated camera's settings (the demo model in `models/demo`
 * was fitted on this camera by `scripts/fit-demo-model.ts`), its default ports, and where the
 * shipped model bundle is found from `src/` and `dist/src/` alike.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CubestreamError } from '../../core/errors.js';

/** The demo camera: a 256-pixel line-scan camera, 61 bands 430-910 nm, blocks of 64 lines. */
export const DEMO_CAMERA = {
  cameraId: 'cam0',
  width: 256,
  blockRows: 64,
  /** 640 lines/s = 10 blocks/s, which a 2-core machine decides with room to spare. */
  linesPerSecond: 640,
  /** Share of objects that are foreign bodies: about one 64-line block in three holds one (35 % measured, docs/evaluation.md §4). */
  anomalyRate: 0.003,
} as const;

/**
 * The demo belt's ejector: square 1 mm pixels (256 px = a 256 mm belt), so 640 lines/s is a belt
 * at 0.64 m/s; 32 valves of 8 mm across it, 0.5 m after the camera line: about 780 ms from
 * capture to the valves, against a decision within ~20 ms.
 */
export const DEMO_EJECTOR = {
  lineRateHz: DEMO_CAMERA.linesPerSecond,
  beltSpeedMetresPerSecond: DEMO_CAMERA.linesPerSecond * 0.001,
  distanceToValvesMetres: 0.5,
  valveCount: 32,
  valvePitchMetres: 0.008,
  pixelPitchMetres: 0.001,
} as const;

/** Default ports of the demo: MQTT, Prometheus metrics, live viewer. */
export const DEMO_PORTS = { mqtt: 1883, metrics: 9464, viewer: 8080 } as const;

/** The shipped demo model is missing (a partial checkout); the message says where it was looked for. */
export class DemoModelNotFoundError extends CubestreamError {
  /** @param tried - folders searched */
  constructor(readonly tried: readonly string[]) {
    super(
      'demo_model',
      `the demo model bundle is missing (looked in ${tried.join(', ')}); refit it with: node --import tsx scripts/fit-demo-model.ts`,
    );
  }
}

/**
 * Folders that may hold the demo model for a module in `moduleDir`: `<repo>/models/demo` seen
 * from `src/app/service` and from `dist/src/app/service`.
 */
export function demoModelCandidates(moduleDir: string): string[] {
  return [
    path.resolve(moduleDir, '../../../models/demo'),
    path.resolve(moduleDir, '../../../../models/demo'),
  ];
}

/**
 * The shipped demo model's folder.
 *
 * @throws {@link DemoModelNotFoundError} when no candidate holds a `pipeline.yaml`
 * @example
 * ```ts
 * import { loadBundle } from 'cubestream';
 * const bundle = await loadBundle(resolveDemoModelDir());
 * ```
 */
export function resolveDemoModelDir(
  moduleDir: string = path.dirname(fileURLToPath(import.meta.url)),
): string {
  const candidates = demoModelCandidates(moduleDir);
  const found = candidates.find((dir) => existsSync(path.join(dir, 'pipeline.yaml')));
  if (found === undefined) throw new DemoModelNotFoundError(candidates);
  return found;
}
