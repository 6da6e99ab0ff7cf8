/**
 * The layers of cubestream's source and the one rule between them: a module imports only from its
 * own layer or from a layer of lower rank. Layers of equal rank are peers and do not import each
 * other (operators and connectors meet only in `src/app`). docs/architecture.md explains each.
 */

/** One layer: the folders it holds and its rank (0 is the bottom). */
export interface Layer {
  readonly name: string;
  readonly rank: number;
  /** Folder prefixes relative to the repository root, with a trailing slash. */
  readonly folders: readonly string[];
}

/** cubestream's layers, bottom to top. */
export const LAYERS: readonly Layer[] = [
  { name: 'core', rank: 0, folders: ['src/core/'] },
  { name: 'io', rank: 1, folders: ['src/io/'] },
  { name: 'report', rank: 1, folders: ['src/report/'] },
  { name: 'telemetry', rank: 1, folders: ['src/telemetry/'] },
  { name: 'model', rank: 2, folders: ['src/model/'] },
  { name: 'scoring', rank: 3, folders: ['src/scoring/'] },
  { name: 'operators', rank: 4, folders: ['operators/'] },
  { name: 'connectors', rank: 4, folders: ['connectors/'] },
  { name: 'train', rank: 5, folders: ['src/train/'] },
  { name: 'app', rank: 6, folders: ['src/app/'] },
  { name: 'api', rank: 7, folders: ['src/index.ts'] },
];

/** The layer a repository-relative path belongs to, or undefined (tests, benches, scripts). */
export function layerOf(file: string, layers: readonly Layer[] = LAYERS): Layer | undefined {
  return layers.find((layer) => layer.folders.some((folder) => file === folder || file.startsWith(folder)));
}
