import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { Radiometry, WavelengthUnits } from '../core/frame.js';
import { findEnviMask, listEnviCubes, readEnviHeader } from '../io/envi/index.js';
import { BINARY_ANOMALY_CLASS_IDS, BINARY_NORMAL_CLASS_IDS, ClassMap } from './class-map.js';
import { DatasetError, type DatasetItem } from './dataset-item.js';
import { type DatasetManifest, readDatasetManifest } from './dataset-manifest.js';
import { type DatasetSplits, type SplitOptions, splitDataset } from './dataset-split.js';

/** What every cube of a dataset has in common: bands and their wavelengths, and radiometry when stated. */
export interface DatasetInput {
  readonly bands: number;
  /** nm, or band indices when `wavelengthUnits` is `index`. */
  readonly wavelengths: Float32Array;
  readonly wavelengthUnits: WavelengthUnits;
  /**
   * Counts or reflectance, when every cube's header states it (`cubestream radiometry`) and
   * they agree; absent when any cube does not state it.
   */
  readonly radiometry?: Radiometry;
}

/** An opened dataset: its cubes, their split, the class mapping and the common input. */
export interface Dataset {
  /** The dataset folder. */
  readonly dir: string;
  /** Every cube, sorted by name. */
  readonly items: readonly DatasetItem[];
  readonly splits: DatasetSplits;
  readonly classes: ClassMap;
  readonly input: DatasetInput;
  /** The parsed `manifest.json`, when there is one. */
  readonly manifest?: DatasetManifest;
}

/** Options of {@link openDataset} (the `data` section of a trainrun config). */
export interface OpenDatasetOptions {
  readonly split?: SplitOptions;
  /** Normal class ids (default: the manifest's, else `[0]` as in binary masks). */
  readonly normalClassIds?: readonly number[];
  /** Anomalous class ids (default: the manifest's, else `[1]` when normal ids default too). */
  readonly anomalyClassIds?: readonly number[];
}

function itemName(dir: string, hdr: string): string {
  const relative = path.relative(dir, hdr).split(path.sep).join('/');
  const withoutExt = relative.replace(/\.hdr$/i, '');
  if (withoutExt.includes('/') && /(^|\/)cube$/i.test(withoutExt)) return withoutExt.replace(/\/cube$/i, '');
  return withoutExt;
}

/**
 * Lists the cubes of a dataset folder: flat `<name>.hdr` + `<name>_mask.hdr` pairs, per-scene
 * folders `<scene>/cube.hdr` + `<scene>/mask.hdr` (the layout of the ABU scene collection), or a single scene
 * folder. Cubes without a mask are listed without one (trained on whole, not evaluated).
 *
 * @throws {@link DatasetError} when the folder does not exist, holds no cube, or two cubes get the same name
 * @example
 * ```ts
 * await discoverDatasetItems('/data/scenes'); // [{ name: 'abu-airport-1', cube: '…/cube.hdr', mask: '…/mask.hdr' }, …]
 * ```
 */
export async function discoverDatasetItems(dir: string): Promise<DatasetItem[]> {
  let cubes: string[];
  try {
    if (!(await stat(dir)).isDirectory()) throw new DatasetError(dir, 'is not a folder');
    cubes = await listEnviCubes(dir);
  } catch (cause) {
    if (cause instanceof DatasetError) throw cause;
    throw new DatasetError(dir, (cause as Error).message, { cause });
  }
  const items: DatasetItem[] = [];
  const names = new Map<string, string>();
  for (const cube of cubes) {
    let name = itemName(dir, cube);
    if (name === 'cube') name = path.basename(path.resolve(dir));
    const clash = names.get(name);
    if (clash !== undefined) throw new DatasetError(cube, `has the same name "${name}" as ${clash}`);
    names.set(name, cube);
    const mask = await findEnviMask(cube);
    items.push(mask === undefined ? { name, cube } : { name, cube, mask });
  }
  return items.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/**
 * Reads every cube's header and checks that all share bands and wavelengths (and that each
 * mask is one band of the cube's size): the input a model trained on them expects. Radiometry
 * is part of it when every cube states the same; a cube that states nothing leaves it unstated.
 *
 * @throws {@link DatasetError} naming the cube or mask that differs, or two cubes of which one
 *   states counts and the other reflectance
 */
export async function readDatasetInput(items: readonly DatasetItem[]): Promise<DatasetInput> {
  let input: (DatasetInput & { from: string }) | undefined;
  const stated = new Map<Radiometry, string>();
  let unstated = false;
  for (const item of items) {
    const header = await readEnviHeader(item.cube);
    if (header.radiometry === undefined) unstated = true;
    else {
      for (const [other, from] of stated) {
        if (other !== header.radiometry) {
          throw new DatasetError(
            item.cube,
            `holds ${header.radiometry}, ${from} holds ${other} (cubestream radiometry); a dataset needs one radiometry`,
          );
        }
      }
      if (!stated.has(header.radiometry)) stated.set(header.radiometry, item.name);
    }
    const units: WavelengthUnits = header.wavelengths === undefined ? 'index' : 'nm';
    const wavelengths =
      header.wavelengths === undefined
        ? Float32Array.from({ length: header.bands }, (_, i) => i)
        : Float32Array.from(header.wavelengths);
    if (input === undefined) {
      input = { bands: header.bands, wavelengths, wavelengthUnits: units, from: item.name };
    } else if (header.bands !== input.bands || units !== input.wavelengthUnits) {
      throw new DatasetError(
        item.cube,
        `has ${header.bands} bands (${units}), ${input.from} has ${input.bands} (${input.wavelengthUnits}); a dataset needs one band layout`,
      );
    } else {
      const band = wavelengths.findIndex((w, b) => Math.abs(w - (input?.wavelengths[b] ?? w)) > 0.5);
      if (band >= 0) {
        throw new DatasetError(
          item.cube,
          `band ${band} is at ${wavelengths[band]}, in ${input.from} at ${input.wavelengths[band]}`,
        );
      }
    }
    if (item.mask !== undefined) {
      const mask = await readEnviHeader(item.mask);
      if (mask.bands !== 1 || mask.lines !== header.lines || mask.samples !== header.samples) {
        throw new DatasetError(
          item.mask,
          `is ${mask.lines}x${mask.samples}x${mask.bands}, expected ${header.lines}x${header.samples}x1 like its cube`,
        );
      }
    }
  }
  if (input === undefined) throw new DatasetError('data', 'holds no cube');
  const { from: _from, ...common } = input;
  const [radiometry] = stated.keys();
  return unstated || radiometry === undefined ? common : { ...common, radiometry };
}

/**
 * Opens a dataset folder: discovers the cubes ({@link discoverDatasetItems}), reads the
 * optional `manifest.json`, splits ({@link splitDataset}), resolves the class mapping (options,
 * then manifest, then binary masks 0 = normal / 1 = anomaly) and checks that every cube has the
 * same bands ({@link readDatasetInput}).
 *
 * @throws {@link DatasetError} or `ConfigError` (bad manifest) saying what is wrong where
 * @example
 * ```ts
 * const dataset = await openDataset('data/sim', { split: { val: 0.2, test: 0.2, seed: 0 } });
 * dataset.splits.train; // cubes to train on
 * dataset.classes.isAnomaly(3); // true for the simulator's stones
 * ```
 */
export async function openDataset(dir: string, options: OpenDatasetOptions = {}): Promise<Dataset> {
  const items = await discoverDatasetItems(dir);
  const manifest = await readDatasetManifest(dir);
  const splits = splitDataset(items, options.split, manifest);
  const normal = options.normalClassIds ?? manifest?.normalClassIds;
  const anomaly =
    options.anomalyClassIds ??
    manifest?.anomalyClassIds ??
    (normal === undefined ? BINARY_ANOMALY_CLASS_IDS : undefined);
  const classes = new ClassMap(normal ?? BINARY_NORMAL_CLASS_IDS, anomaly);
  const input = await readDatasetInput(items);
  return { dir, items, splits, classes, input, ...(manifest === undefined ? {} : { manifest }) };
}
