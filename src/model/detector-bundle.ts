import type { Radiometry, WavelengthUnits } from '../core/frame.js';
import type { SafeTensor } from '../io/safetensors.js';
import { toFloat32, toFloat64 } from '../io/safetensors.js';
import { BUNDLE_SCHEMA, BundleError, type Calibration, type ModelBundle, requireWeight } from './bundle.js';
import { type DeepSvddParams, validateDeepSvddParams } from './deep-svdd-params.js';
import type { RxModel } from './rx-stats.js';

/** Detector kinds a bundle can hold. */
export type DetectorKind = 'deep-svdd' | 'rx';

/** Provenance written into a new bundle. */
export interface BundleMeta {
  /** Model version, e.g. `lentils-2026-11-29T05:50:00Z`; copied into every decision. */
  version: string;
  calibration: Calibration;
  /** Free-form model-card fields: data, metrics, training config. */
  card?: Record<string, unknown>;
  /** Creation time (default now). */
  createdAt?: Date;
  /** What the training data held (`input.radiometry`); left out when it did not say. */
  radiometry?: Radiometry;
}

function radiometryOf(meta: BundleMeta): { radiometry?: Radiometry } {
  return meta.radiometry === undefined ? {} : { radiometry: meta.radiometry };
}

function f32(shape: number[], data: Float32Array): SafeTensor {
  return { dtype: 'F32', shape, data };
}

/**
 * Packs Deep SVDD parameters as a bundle: stages `bandpass`, `unitNorm`, `zscore`, [`whiten`
 * (components)], `project` (hidden, rep, [residual]), `center`, `score`, weights `zscore.mean`,
 * `zscore.std`, [`whiten.mean`, `whiten.matrix`], `project.W1`, `project.b1`, `project.W2`, `center.c`.
 *
 * @example
 * ```ts
 * import { type Calibration, saveBundle } from './bundle.js';
 * declare const calibration: Calibration; // calibrateScores(training scores)
 * await saveBundle('runs/x/model', deepSvddToBundle(params, { version: 'x-1', calibration }));
 * ```
 */
export function deepSvddToBundle(params: DeepSvddParams, meta: BundleMeta): ModelBundle {
  validateDeepSvddParams(params);
  const { project } = params;
  const channels = params.zscore.mean.length;
  const inputs = params.whiten?.components ?? channels;
  return {
    manifest: {
      schema: BUNDLE_SCHEMA,
      version: meta.version,
      detector: 'deep-svdd',
      createdAt: (meta.createdAt ?? new Date()).toISOString(),
      input: {
        bands: params.wavelengthsNm.length,
        wavelengths: [...params.wavelengthsNm],
        wavelengthUnits: params.wavelengthUnits ?? 'nm',
        ...radiometryOf(meta),
      },
      stages: [
        params.bandpass === undefined
          ? { kind: 'bandpass', all: true }
          : {
              kind: 'bandpass',
              minNm: params.bandpass.minNm,
              ...(params.bandpass.maxNm === undefined ? {} : { maxNm: params.bandpass.maxNm }),
            },
        { kind: 'unitNorm', enabled: params.unitNorm },
        { kind: 'zscore', channels },
        ...(params.whiten === undefined ? [] : [{ kind: 'whiten', components: params.whiten.components }]),
        {
          kind: 'project',
          hidden: project.hidden,
          rep: project.rep,
          ...(project.residual === true ? { residual: true } : {}),
        },
        { kind: 'center' },
        { kind: 'score', metric: 'squared-distance' },
      ],
    },
    weights: new Map([
      ['zscore.mean', f32([channels], params.zscore.mean)],
      ['zscore.std', f32([channels], params.zscore.std)],
      ...(params.whiten === undefined
        ? []
        : ([
            ['whiten.mean', f32([channels], params.whiten.mean)],
            ['whiten.matrix', f32([params.whiten.components, channels], params.whiten.matrix)],
          ] as [string, SafeTensor][])),
      ['project.W1', f32([project.hidden, inputs], project.W1)],
      ['project.b1', f32([project.hidden], project.b1)],
      ['project.W2', f32([project.rep, project.hidden], project.W2)],
      ['center.c', f32([project.rep], params.center)],
    ]),
    calibration: meta.calibration,
    card: meta.card ?? {},
  };
}

function stageOf(bundle: ModelBundle, kind: string): Record<string, unknown> {
  const stage = bundle.manifest.stages.find((s) => s.kind === kind);
  if (stage === undefined)
    throw new BundleError(
      `model bundle ${bundle.manifest.version}: stage "${kind}" is missing from pipeline.yaml`,
    );
  return stage;
}

function numberField(stage: Record<string, unknown>, field: string, optional = false): number | undefined {
  const value = stage[field];
  if (value === undefined && optional) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new BundleError(
      `model bundle: stage "${String(stage.kind)}" field "${field}" must be a number, got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

/**
 * Unpacks the Deep SVDD parameters of a bundle written by {@link deepSvddToBundle}.
 *
 * @throws {@link BundleError} when a stage or weight is missing or mis-sized
 */
export function deepSvddFromBundle(bundle: ModelBundle): DeepSvddParams {
  if (bundle.manifest.detector !== 'deep-svdd') {
    throw new BundleError(
      `model bundle ${bundle.manifest.version}: detector is "${bundle.manifest.detector}", not deep-svdd`,
    );
  }
  const bandpass = stageOf(bundle, 'bandpass');
  const project = stageOf(bundle, 'project');
  const unitNorm = stageOf(bundle, 'unitNorm');
  const minNm = bandpass.all === true ? undefined : (numberField(bandpass, 'minNm') as number);
  const maxNm = numberField(bandpass, 'maxNm', true);
  const hidden = numberField(project, 'hidden') as number;
  const rep = numberField(project, 'rep') as number;
  const mean = toFloat32(requireWeight(bundle, 'zscore.mean'));
  const channels = mean.length;
  const whitenStage = bundle.manifest.stages.find((s) => s.kind === 'whiten');
  const components =
    whitenStage === undefined ? undefined : (numberField(whitenStage, 'components') as number);
  const inputs = components ?? channels;
  const params: DeepSvddParams = {
    wavelengthsNm: Float32Array.from(bundle.manifest.input.wavelengths),
    wavelengthUnits: bundle.manifest.input.wavelengthUnits,
    ...(minNm === undefined ? {} : { bandpass: maxNm === undefined ? { minNm } : { minNm, maxNm } }),
    unitNorm: unitNorm.enabled !== false,
    zscore: { mean, std: toFloat32(requireWeight(bundle, 'zscore.std', channels)) },
    ...(components === undefined
      ? {}
      : {
          whiten: {
            mean: toFloat32(requireWeight(bundle, 'whiten.mean', channels)),
            matrix: toFloat32(requireWeight(bundle, 'whiten.matrix', components * channels)),
            components,
          },
        }),
    project: {
      W1: toFloat32(requireWeight(bundle, 'project.W1', hidden * inputs)),
      b1: toFloat32(requireWeight(bundle, 'project.b1', hidden)),
      W2: toFloat32(requireWeight(bundle, 'project.W2', rep * hidden)),
      hidden,
      rep,
      ...(project.residual === true ? { residual: true } : {}),
    },
    center: toFloat32(requireWeight(bundle, 'center.c', rep)),
  };
  try {
    return validateDeepSvddParams(params);
  } catch (cause) {
    throw new BundleError(`model bundle ${bundle.manifest.version}: ${(cause as Error).message}`, { cause });
  }
}

/** An RX model together with the input it expects. */
export interface RxDetector {
  readonly rx: RxModel;
  readonly wavelengths: Float32Array;
  readonly wavelengthUnits: WavelengthUnits;
}

/** Packs an RX model as a bundle: stage `rx`, weights `rx.mean` and `rx.covInverse` (float64). */
export function rxToBundle(detector: RxDetector, meta: BundleMeta): ModelBundle {
  const { rx } = detector;
  return {
    manifest: {
      schema: BUNDLE_SCHEMA,
      version: meta.version,
      detector: 'rx',
      createdAt: (meta.createdAt ?? new Date()).toISOString(),
      input: {
        bands: rx.bands,
        wavelengths: [...detector.wavelengths],
        wavelengthUnits: detector.wavelengthUnits,
        ...radiometryOf(meta),
      },
      stages: [{ kind: 'rx', regularization: 1e-6 }],
    },
    weights: new Map<string, SafeTensor>([
      ['rx.mean', { dtype: 'F64', shape: [rx.bands], data: rx.mean }],
      ['rx.covInverse', { dtype: 'F64', shape: [rx.bands, rx.bands], data: rx.covInverse }],
    ]),
    calibration: meta.calibration,
    card: meta.card ?? {},
  };
}

/** Unpacks an RX bundle written by {@link rxToBundle}. */
export function rxFromBundle(bundle: ModelBundle): RxDetector {
  if (bundle.manifest.detector !== 'rx') {
    throw new BundleError(
      `model bundle ${bundle.manifest.version}: detector is "${bundle.manifest.detector}", not rx`,
    );
  }
  const bands = bundle.manifest.input.bands;
  return {
    rx: {
      bands,
      mean: toFloat64(requireWeight(bundle, 'rx.mean', bands)),
      covInverse: toFloat64(requireWeight(bundle, 'rx.covInverse', bands * bands)),
    },
    wavelengths: Float32Array.from(bundle.manifest.input.wavelengths),
    wavelengthUnits: bundle.manifest.input.wavelengthUnits,
  };
}
