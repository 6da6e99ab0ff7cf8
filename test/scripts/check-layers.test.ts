import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { findLayerViolations, formatViolation } from '../../scripts/check-layers.js';
import { LAYERS, layerOf } from '../../scripts/layers.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
let tree: string | undefined;

function treeWith(files: Record<string, string>): string {
  tree = mkdtempSync(path.join(tmpdir(), 'layers-'));
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(tree, file)), { recursive: true });
    writeFileSync(path.join(tree, file), text);
  }
  return tree;
}

afterEach(() => {
  if (tree !== undefined) rmSync(tree, { recursive: true, force: true });
  tree = undefined;
});

describe('the layer check', () => {
  it('passes on this repository', () => {
    expect(findLayerViolations(repoRoot).map(formatViolation)).toEqual([]);
  });

  it('fails on an import from a higher layer, naming file, line and layers', () => {
    const root = treeWith({
      'src/core/frame.ts':
        "import { x } from './ok.js';\n\nimport { runService } from '../app/service/service.js';\n",
      'src/core/ok.ts': 'export const x = 1;\n',
      'src/app/service/service.ts': "import { x } from '../../core/ok.js';\n",
    });
    const violations = findLayerViolations(root);
    expect(violations).toEqual([
      { file: 'src/core/frame.ts', line: 3, target: 'src/app/service/service.js', from: 'core', to: 'app' },
    ]);
    expect(violations.map(formatViolation)[0]).toContain("layer 'core' imports");
  });

  it('fails on an import between peers (operators and connectors)', () => {
    const root = treeWith({
      'operators/decide.ts': "import type { Sink } from '../connectors/sinks/sink.js';\n",
      'connectors/sinks/sink.ts': "export type { Frame } from '../../src/core/frame.js';\n",
      'src/core/frame.ts': 'export interface Frame {}\n',
    });
    expect(findLayerViolations(root).map((v) => `${v.from}->${v.to}`)).toEqual(['operators->connectors']);
  });

  it('sees type-only, re-export and dynamic imports', () => {
    const root = treeWith({
      'src/model/a.ts': [
        "import type { A } from '../scoring/a.js';",
        "export { B } from '../train/b.js';",
        "const c = await import('../app/c.js');",
      ].join('\n'),
    });
    expect(findLayerViolations(root).map((v) => v.to)).toEqual(['scoring', 'train', 'app']);
  });

  it('puts every source folder in a layer', () => {
    for (const folder of [
      'src/core/x.ts',
      'src/io/x.ts',
      'src/model/x.ts',
      'src/scoring/x.ts',
      'src/app/x.ts',
    ]) {
      expect(layerOf(folder)).toBeDefined();
    }
    expect(new Set(LAYERS.map((l) => l.name)).size).toBe(LAYERS.length);
    expect(layerOf('test/x.test.ts')).toBeUndefined();
  });
});
