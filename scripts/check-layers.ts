/**
 * The layer check (`npm run check:layers`, part of `npm test`): every relative import in the
 * layered folders must point to the importer's own layer or to a lower one (scripts/layers.ts).
 * Prints each wrong-way import with file and line and exits 1; exits 0 when there is none.
 */
import { type Dirent, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { LAYERS, type Layer, layerOf } from './layers.js';

/** One import that goes the wrong way. */
export interface LayerViolation {
  readonly file: string;
  readonly line: number;
  readonly target: string;
  readonly from: string;
  readonly to: string;
}

const IMPORT = /(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)(['"])(\.{1,2}\/[^'"]+)\1/gm;
const ROOTS = ['src', 'operators', 'connectors'];

function sourceFiles(root: string): string[] {
  const files: string[] = [];
  const walk = (dir: string): void => {
    let entries: Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.ts')) files.push(full);
    }
  };
  for (const top of ROOTS) walk(path.join(root, top));
  return files;
}

function allowed(from: Layer, to: Layer): boolean {
  return from === to || to.rank < from.rank;
}

/** Every wrong-way import under `root` (a repository checkout). */
export function findLayerViolations(root: string, layers: readonly Layer[] = LAYERS): LayerViolation[] {
  const violations: LayerViolation[] = [];
  for (const absolute of sourceFiles(root)) {
    const file = path.relative(root, absolute).split(path.sep).join('/');
    const from = layerOf(file, layers);
    if (from === undefined) continue;
    const text = readFileSync(absolute, 'utf8');
    for (const match of text.matchAll(IMPORT)) {
      const specifier = match[2] ?? '';
      const target = path.posix.normalize(path.posix.join(path.posix.dirname(file), specifier));
      const to = layerOf(target, layers);
      if (to === undefined || allowed(from, to)) continue;
      const line = text.slice(0, match.index).split('\n').length;
      violations.push({ file, line, target, from: from.name, to: to.name });
    }
  }
  return violations;
}

/** One line per violation, as the check prints them. */
export function formatViolation(v: LayerViolation): string {
  return `${v.file}:${v.line}: layer '${v.from}' imports '${v.target}' of layer '${v.to}' (imports go down only: see docs/architecture.md)`;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  const violations = findLayerViolations(root);
  for (const v of violations) console.error(formatViolation(v));
  if (violations.length > 0) {
    console.error(`${violations.length} wrong-way import(s)`);
    process.exit(1);
  }
  console.log(`layers: ${LAYERS.map((l) => l.name).join(' < ')}: no wrong-way import`);
}
