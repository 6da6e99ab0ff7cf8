import { appendFile, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { stringify as stringifyYaml } from 'yaml';

/** Name of the per-epoch metrics file in a run folder. */
export const METRICS_FILE = 'metrics.jsonl';

/** A run folder `<out>/<name>-<timestamp>`: the metrics log and the place for everything else. */
export interface RunFolder {
  /** The folder. */
  readonly dir: string;
  /** `<name>-<timestamp>` (also the model version). */
  readonly id: string;
  /** Path of a file or folder inside the run folder. */
  file(...parts: string[]): string;
  /** Appends one JSON line to `metrics.jsonl` (non-finite numbers are written as null). */
  appendMetrics(record: Readonly<Record<string, unknown>>): Promise<void>;
  /** Writes a JSON file (2-space indented) into the run folder. */
  writeJson(name: string, value: unknown): Promise<void>;
  /** Writes a YAML file into the run folder. */
  writeYaml(name: string, value: unknown): Promise<void>;
}

/**
 * The timestamp part of a run folder name, UTC: `20261129T055300Z`.
 *
 * @example
 * ```ts
 * runTimestamp(new Date('2026-11-29T05:53:00Z')); // '20261129T055300Z'
 * ```
 */
export function runTimestamp(date: Date): string {
  return date
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
}

function jsonReplacer(_key: string, value: unknown): unknown {
  return typeof value === 'number' && !Number.isFinite(value) ? null : value;
}

/**
 * Creates `<out>/<name>-<timestamp>` (with `-2`, `-3`, … appended when that exists already, so
 * two runs started in the same second never share a folder).
 *
 * @example
 * ```ts
 * const run = await createRunFolder('runs', 'lentils');
 * await run.appendMetrics({ epoch: 0, loss: 0.12 });
 * ```
 */
export async function createRunFolder(out: string, name: string, now: Date = new Date()): Promise<RunFolder> {
  await mkdir(out, { recursive: true });
  const base = `${name}-${runTimestamp(now)}`;
  let id = base;
  for (let attempt = 2; ; attempt++) {
    try {
      await mkdir(path.join(out, id));
      break;
    } catch (cause) {
      if ((cause as NodeJS.ErrnoException).code !== 'EEXIST') throw cause;
      id = `${base}-${attempt}`;
    }
  }
  const dir = path.join(out, id);
  const file = (...parts: string[]): string => path.join(dir, ...parts);
  return {
    dir,
    id,
    file,
    appendMetrics: (record) => appendFile(file(METRICS_FILE), `${JSON.stringify(record, jsonReplacer)}\n`),
    writeJson: (name, value) => writeFile(file(name), `${JSON.stringify(value, jsonReplacer, 2)}\n`),
    writeYaml: (name, value) => writeFile(file(name), stringifyYaml(value)),
  };
}
