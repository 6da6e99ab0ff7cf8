import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeSafetensors, type SafeTensor, toFloat32 } from '../../src/io/safetensors.js';
import { type DeepSvddParamName, DeepSvddVariables } from '../../src/train/deep-svdd-variables.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const candidates = [path.join(repoRoot, 'test/fixtures/golden'), path.resolve(repoRoot, '../shared/golden')];

/** Folder holding the golden vectors: the in-repo copy if present, else ../shared/golden. */
export const goldenDir: string | undefined = candidates.find((dir) =>
  existsSync(path.join(dir, 'deep_svdd_golden.safetensors')),
);

/** The golden tensors and golden.json scalars. */
export interface GoldenVectors {
  tensor(name: string): SafeTensor;
  f32(name: string): Float32Array;
  json: {
    loss: number;
    R2_init: number;
    grad_total_norm_before_clip: number;
    metrics: Record<string, number>;
    conventions: Record<string, unknown>;
  };
}

/** Loads the golden vectors from {@link goldenDir}. */
export function loadGoldenVectors(): GoldenVectors {
  if (goldenDir === undefined) throw new Error(`golden vectors not found in ${candidates.join(' or ')}`);
  const { tensors } = decodeSafetensors(
    new Uint8Array(readFileSync(path.join(goldenDir, 'deep_svdd_golden.safetensors'))),
  );
  const tensor = (name: string): SafeTensor => {
    const t = tensors.get(name);
    if (t === undefined) throw new Error(`golden tensor ${name} is missing`);
    return t;
  };
  return {
    tensor,
    f32: (name) => toFloat32(tensor(name)),
    json: JSON.parse(readFileSync(path.join(goldenDir, 'golden.json'), 'utf8')),
  };
}

/**
 * Worst ratio |got - ref| / (rel·|ref| + abs·max|ref|) over the elements (<= 1 passes), with
 * where it is, so a failing expectation says which element broke.
 */
export function worstRatio(
  got: ArrayLike<number>,
  ref: ArrayLike<number>,
  tol = 1e-4,
): { ratio: number; index: number; got: number; ref: number } {
  if (got.length !== ref.length)
    return { ratio: Number.POSITIVE_INFINITY, index: -1, got: got.length, ref: ref.length };
  let max = 0;
  for (let i = 0; i < ref.length; i++) max = Math.max(max, Math.abs(ref[i] as number));
  let worst = { ratio: 0, index: -1, got: 0, ref: 0 };
  for (let i = 0; i < ref.length; i++) {
    const g = got[i] as number;
    const r = ref[i] as number;
    const ratio = Math.abs(g - r) / (tol * Math.abs(r) + tol * max);
    if (!(ratio <= worst.ratio))
      worst = { ratio: Number.isNaN(ratio) ? Number.POSITIVE_INFINITY : ratio, index: i, got: g, ref: r };
  }
  return worst;
}

/** Golden short names (grad.<p>, adamw_step.<p>) -> our parameter names. */
export const GOLDEN_PARAMS: readonly [string, DeepSvddParamName][] = [
  ['W1', 'project.W1'],
  ['b1', 'project.b1'],
  ['W2', 'project.W2'],
  ['r', 'boundary.r'],
  ['mean', 'zscore.mean'],
  ['std', 'zscore.std'],
];

/** The step options the golden training step was made with. */
export const GOLDEN_STEP_OPTIONS = { nu: 0.05, centerAlpha: 0.1, maxGradNorm: 1.0 };

/** The model of the golden training step (all stages trainable, r = 0). */
export function goldenModel(golden: GoldenVectors): DeepSvddVariables {
  return DeepSvddVariables.create({
    zscore: { mean: golden.f32('zscore.mean'), std: golden.f32('zscore.std') },
    project: { W1: golden.f32('project.W1'), b1: golden.f32('project.b1'), W2: golden.f32('project.W2') },
    center: golden.f32('center.init'),
    r: 0,
  });
}
