import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { ConfigError } from '../core/config-error.js';
import { validateConfig } from '../core/validate.js';

/** File name of a dataset's optional manifest. */
export const DATASET_MANIFEST = 'manifest.json';

const ClassIdsSchema = z.array(z.number().int().min(0).max(255));
const NamesSchema = z.array(z.string().min(1));

/**
 * What cubestream reads from a dataset's `manifest.json` (other fields, e.g. the generator
 * options written by `cubestream simulate`, are kept but ignored): the split of cube names and
 * the class ids that are normal / anomalous.
 *
 * @example
 * ```json
 * { "splits": { "train": ["frame-0000"], "val": ["frame-0001"], "test": ["frame-0002"] },
 *   "normalClassIds": [1, 2, 4], "anomalyClassIds": [3, 5, 6, 7] }
 * ```
 */
export const DatasetManifestSchema = z.looseObject({
  splits: z
    .strictObject({
      train: NamesSchema.optional(),
      val: NamesSchema.optional(),
      test: NamesSchema.optional(),
    })
    .optional(),
  normalClassIds: ClassIdsSchema.optional(),
  anomalyClassIds: ClassIdsSchema.optional(),
});

/** The parsed `manifest.json` of a dataset. */
export type DatasetManifest = z.infer<typeof DatasetManifestSchema>;

/**
 * Reads `<dir>/manifest.json` if there is one.
 *
 * @returns the manifest, or `undefined` when the folder has none
 * @throws {@link ConfigError} naming the file and the field when it is not valid JSON or does not fit
 * @example
 * ```ts
 * const manifest = await readDatasetManifest('data/sim'); // { splits?, normalClassIds?, anomalyClassIds? }
 * ```
 */
export async function readDatasetManifest(dir: string): Promise<DatasetManifest | undefined> {
  const file = path.join(dir, DATASET_MANIFEST);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ConfigError(file, [{ path: '(file)', message: (cause as Error).message }], { cause });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (cause) {
    throw new ConfigError(
      file,
      [{ path: '(root)', message: `not valid JSON: ${(cause as Error).message}` }],
      {
        cause,
      },
    );
  }
  return validateConfig(DatasetManifestSchema, raw, file);
}
