import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { z } from 'zod';
import { ConfigError } from '../core/config-error.js';
import { CubestreamError } from '../core/errors.js';
import { RADIOMETRIES } from '../core/frame.js';
import { validateConfig } from '../core/validate.js';
import { decodeSafetensors, encodeSafetensors, type SafeTensor } from '../io/safetensors.js';

/** Schema version written into every bundle's `pipeline.yaml`; loading refuses any other. */
export const BUNDLE_SCHEMA = 'cubestream.bundle/1';

/** One stage of the bundled pipeline: its kind plus hyper-parameters (weights live in safetensors). */
export const StageSpecSchema = z.looseObject({ kind: z.string().min(1) });
/** A stage description: `kind` plus the stage's own hyper-parameters. */
export type StageSpec = z.infer<typeof StageSpecSchema>;

/** `pipeline.yaml`: what the model is, what it expects, and its stages in order. */
export const BundleManifestSchema = z.strictObject({
  schema: z.literal(BUNDLE_SCHEMA),
  version: z.string().min(1),
  detector: z.string().min(1),
  createdAt: z.string(),
  input: z.strictObject({
    bands: z.number().int().positive(),
    wavelengths: z.array(z.number()),
    wavelengthUnits: z.enum(['nm', 'index']),
    /** What the model was trained on; absent when the training data did not state it. */
    radiometry: z.enum(RADIOMETRIES).optional(),
  }),
  stages: z.array(StageSpecSchema).min(1),
});
/** The parsed `pipeline.yaml` of a bundle. */
export type BundleManifest = z.infer<typeof BundleManifestSchema>;

/** `calibration.json`: the threshold state a deployed model starts from. */
export const CalibrationSchema = z.strictObject({
  /** Score threshold τ calibrated on training data (seed of the rolling threshold). */
  threshold: z.number().nonnegative(),
  /** The quantile τ was taken at. */
  quantile: z.number().gt(0).lte(1),
  /** Multiplier applied to the quantile to get τ. */
  margin: z.number().positive(),
  /** Score quantiles over the training pixels, keyed by q ("0.5", "0.99", …). */
  scoreQuantiles: z.record(z.string(), z.number()),
  /** Training pixels the quantiles were taken over. */
  pixels: z.number().int().nonnegative(),
});
/** The parsed `calibration.json`. */
export type Calibration = z.infer<typeof CalibrationSchema>;

/** `model-card.json`: provenance and evaluation of the model; free-form beyond the hashes. */
export const ModelCardSchema = z.looseObject({
  version: z.string(),
  hashes: z.strictObject({ weightsSha256: z.string(), pipelineSha256: z.string() }),
});
/** The parsed `model-card.json`. */
export type ModelCard = z.infer<typeof ModelCardSchema>;

/** A model bundle in memory (docs/wire-format.md §6): manifest, weights named `<stage>.<param>`, calibration, card. */
export interface ModelBundle {
  readonly manifest: BundleManifest;
  readonly weights: ReadonlyMap<string, SafeTensor>;
  readonly calibration: Calibration;
  /** Extra card fields (data, metrics, training config); hashes are filled in on save. */
  readonly card: Readonly<Record<string, unknown>>;
}

/** A loaded bundle, with the SHA-256 of its weights (for `model_info{sha256}`). */
export interface LoadedBundle extends ModelBundle {
  readonly dir: string;
  readonly weightsSha256: string;
}

/** A bundle folder that cannot be loaded: missing file, wrong schema, or hashes that do not match. */
export class BundleError extends CubestreamError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('bundle', message, options);
  }
}

function sha256(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * Writes a bundle folder atomically (to `<dir>.tmp-<pid>`, then renamed): `pipeline.yaml`,
 * `weights.safetensors`, `calibration.json`, `model-card.json` with SHA-256 hashes.
 *
 * @example
 * ```ts
 * const { manifest, weights, calibration } = await loadBundle('models/lentils');
 * await saveBundle('runs/lentils/model', { manifest, weights, calibration, card: { data: 'sim-seed-1' } });
 * ```
 */
export async function saveBundle(dir: string, bundle: ModelBundle): Promise<LoadedBundle> {
  const manifest = validateConfig(BundleManifestSchema, bundle.manifest, `${dir}/pipeline.yaml`);
  const calibration = validateConfig(CalibrationSchema, bundle.calibration, `${dir}/calibration.json`);
  const weightsBytes = encodeSafetensors(bundle.weights, {
    format: BUNDLE_SCHEMA,
    version: manifest.version,
  });
  const pipelineText = stringifyYaml(manifest);
  const weightsSha256 = sha256(weightsBytes);
  const card = {
    ...bundle.card,
    version: manifest.version,
    hashes: { weightsSha256, pipelineSha256: sha256(pipelineText) },
  };
  const tmp = `${dir}.tmp-${process.pid}`;
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp, { recursive: true });
  await writeFile(join(tmp, 'pipeline.yaml'), pipelineText);
  await writeFile(join(tmp, 'weights.safetensors'), weightsBytes);
  await writeFile(join(tmp, 'calibration.json'), `${JSON.stringify(calibration, null, 2)}\n`);
  await writeFile(join(tmp, 'model-card.json'), `${JSON.stringify(card, null, 2)}\n`);
  await rm(dir, { recursive: true, force: true });
  await rename(tmp, dir);
  return { manifest, weights: bundle.weights, calibration, card, dir, weightsSha256 };
}

async function readBundleFile(dir: string, name: string): Promise<Buffer> {
  try {
    return await readFile(join(dir, name));
  } catch (cause) {
    throw new BundleError(`model bundle ${dir}: cannot read ${name} (${(cause as Error).message})`, {
      cause,
    });
  }
}

function parseJson(dir: string, name: string, bytes: Buffer): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch (cause) {
    throw new BundleError(`model bundle ${dir}: ${name} is not valid JSON (${(cause as Error).message})`, {
      cause,
    });
  }
}

/**
 * Loads and checks a bundle folder: schema version, manifest and calibration schemas, and the
 * weights' SHA-256 against the model card.
 *
 * @throws {@link BundleError} or {@link ConfigError} saying which file and field is wrong
 */
export async function loadBundle(dir: string): Promise<LoadedBundle> {
  const pipelineText = (await readBundleFile(dir, 'pipeline.yaml')).toString('utf8');
  let raw: unknown;
  try {
    raw = parseYaml(pipelineText);
  } catch (cause) {
    throw new BundleError(
      `model bundle ${dir}: pipeline.yaml is not valid YAML (${(cause as Error).message})`,
      { cause },
    );
  }
  const schema = (raw as { schema?: unknown } | null)?.schema;
  if (schema !== BUNDLE_SCHEMA) {
    throw new BundleError(
      `model bundle ${dir}: schema ${JSON.stringify(schema)} is not supported (this cubestream reads ${BUNDLE_SCHEMA})`,
    );
  }
  const manifest = validateConfig(BundleManifestSchema, raw, `${dir}/pipeline.yaml`);
  if (manifest.input.wavelengths.length !== manifest.input.bands) {
    throw new ConfigError(`${dir}/pipeline.yaml`, [
      {
        path: 'input.wavelengths',
        message: `has ${manifest.input.wavelengths.length} values for ${manifest.input.bands} bands`,
      },
    ]);
  }
  const weightsBytes = await readBundleFile(dir, 'weights.safetensors');
  const card = validateConfig(
    ModelCardSchema,
    parseJson(dir, 'model-card.json', await readBundleFile(dir, 'model-card.json')),
    `${dir}/model-card.json`,
  );
  const weightsSha256 = sha256(weightsBytes);
  if (card.hashes.weightsSha256 !== weightsSha256) {
    throw new BundleError(
      `model bundle ${dir}: weights.safetensors has SHA-256 ${weightsSha256} but model-card.json records ${card.hashes.weightsSha256} (file changed or corrupted)`,
    );
  }
  const calibration = validateConfig(
    CalibrationSchema,
    parseJson(dir, 'calibration.json', await readBundleFile(dir, 'calibration.json')),
    `${dir}/calibration.json`,
  );
  const { tensors } = decodeSafetensors(weightsBytes);
  return { manifest, weights: tensors, calibration, card, dir, weightsSha256 };
}

/**
 * Fetches a weight tensor by name, checking its element count.
 *
 * @throws {@link BundleError} naming the missing or mis-sized tensor
 */
export function requireWeight(
  bundle: Pick<ModelBundle, 'weights'>,
  name: string,
  length?: number,
): SafeTensor {
  const tensor = bundle.weights.get(name);
  if (tensor === undefined)
    throw new BundleError(`model bundle: weight "${name}" is missing from weights.safetensors`);
  if (length !== undefined && tensor.data.length !== length) {
    throw new BundleError(
      `model bundle: weight "${name}" has ${tensor.data.length} values, expected ${length}`,
    );
  }
  return tensor;
}
