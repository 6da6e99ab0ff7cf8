import { seededRandom } from '../model/seeded-random.js';
import { DatasetError, type DatasetItem } from './dataset-item.js';
import type { DatasetManifest } from './dataset-manifest.js';

/** The three parts of a dataset. */
export type SplitName = 'train' | 'val' | 'test';

/** Every {@link SplitName}, in order. */
export const SPLIT_NAMES: readonly SplitName[] = ['train', 'val', 'test'];

/** How a dataset is split when neither the config nor the manifest lists names. */
export interface SplitOptions {
  /** Explicit cube names per split (wins over the manifest and the fractions). */
  readonly names?: Partial<Record<SplitName, readonly string[]>>;
  /** Share of the cubes for validation, 0-0.9 (default 0.2). */
  readonly val?: number;
  /** Share of the cubes for the test split, 0-0.9 (default 0.2). */
  readonly test?: number;
  /** Seed of the shuffle before cutting by fraction (default 0). */
  readonly seed?: number;
}

/** A dataset cut into train / val / test, and where the cut came from. */
export interface DatasetSplits {
  readonly train: readonly DatasetItem[];
  readonly val: readonly DatasetItem[];
  readonly test: readonly DatasetItem[];
  /** `config` (names in the trainrun), `manifest` (its `splits`) or `fraction` (seeded shuffle). */
  readonly source: 'config' | 'manifest' | 'fraction';
}

function byNames(
  items: readonly DatasetItem[],
  names: Partial<Record<SplitName, readonly string[]>>,
  source: 'config' | 'manifest',
): DatasetSplits {
  const byName = new Map(items.map((item) => [item.name, item]));
  const seen = new Map<string, SplitName>();
  const pick = (split: SplitName): DatasetItem[] =>
    (names[split] ?? []).map((name) => {
      const item = byName.get(name);
      if (item === undefined) {
        throw new DatasetError(
          `${source === 'config' ? 'data.split.names' : 'manifest.json splits'}.${split}`,
          `names "${name}", which is not a cube of the dataset (have: ${[...byName.keys()].slice(0, 8).join(', ')}${byName.size > 8 ? ', …' : ''})`,
        );
      }
      const other = seen.get(name);
      if (other !== undefined) {
        throw new DatasetError(`${source}.${split}`, `"${name}" is also in the ${other} split`);
      }
      seen.set(name, split);
      return item;
    });
  const train = pick('train');
  if (train.length === 0) throw new DatasetError(`${source}.train`, 'lists no cube to train on');
  return { train, val: pick('val'), test: pick('test'), source };
}

function checkFraction(option: string, value: number): number {
  if (!(value >= 0 && value <= 0.9)) throw new DatasetError(option, `${value} must be within 0..0.9`);
  return value;
}

/**
 * Splits a dataset's cubes: by the names in `options.names` when given, else by the manifest's
 * `splits`, else by fractions after a seeded shuffle (each split with a non-zero fraction gets
 * at least one cube as long as one remains for training). Within a split cubes keep name order.
 *
 * @throws {@link DatasetError} for a name that is not in the dataset or listed twice, an empty
 *   train split, or a fraction outside 0..0.9
 * @example
 * ```ts
 * const { train, val, test } = splitDataset(dataset.items, { val: 0.2, test: 0.2, seed: 1 }, dataset.manifest);
 * ```
 */
export function splitDataset(
  items: readonly DatasetItem[],
  options: SplitOptions = {},
  manifest?: DatasetManifest,
): DatasetSplits {
  if (items.length === 0) throw new DatasetError('data', 'holds no cube');
  if (options.names !== undefined && SPLIT_NAMES.some((s) => (options.names?.[s]?.length ?? 0) > 0)) {
    return byNames(items, options.names, 'config');
  }
  if (manifest?.splits !== undefined) return byNames(items, manifest.splits, 'manifest');
  const valShare = checkFraction('data.split.val', options.val ?? 0.2);
  const testShare = checkFraction('data.split.test', options.test ?? 0.2);
  const n = items.length;
  const count = (share: number): number => (share > 0 ? Math.max(1, Math.round(n * share)) : 0);
  let testCount = count(testShare);
  let valCount = count(valShare);
  while (testCount + valCount > n - 1 && valCount + testCount > 0) {
    if (valCount >= testCount && valCount > 0) valCount--;
    else testCount--;
  }
  const order = items.map((_, i) => i);
  const random = seededRandom(options.seed ?? 0);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j] as number, order[i] as number];
  }
  const sortByName = (chosen: number[]): DatasetItem[] =>
    chosen
      .map((i) => items[i] as DatasetItem)
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return {
    test: sortByName(order.slice(0, testCount)),
    val: sortByName(order.slice(testCount, testCount + valCount)),
    train: sortByName(order.slice(testCount + valCount)),
    source: 'fraction',
  };
}
