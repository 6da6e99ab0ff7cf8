import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { checkExamples, extractExamples } from '../../scripts/check-examples.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const repoOptions = {
  tsconfig: path.join(repoRoot, 'tsconfig.json'),
  placeholders: path.join(repoRoot, 'scripts/example-placeholders.ts'),
};
let tree: string | undefined;

/**
 * A throw-away source tree holding `files`, inside the repository (in the ignored
 * test-artifacts/) so that its imports resolve against the repository's node_modules.
 */
function treeWith(files: Record<string, string>): string {
  const artifacts = path.join(repoRoot, 'test-artifacts');
  mkdirSync(artifacts, { recursive: true });
  tree = mkdtempSync(path.join(artifacts, 'tsdoc-examples-'));
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(tree, file)), { recursive: true });
    writeFileSync(path.join(tree, file), text);
  }
  return tree;
}

/** A module whose one export carries `example` as its TSDoc example. */
function moduleWithExample(example: string): string {
  const body = example.split('\n').map((line) => ` * ${line}`.trimEnd());
  return [
    '/**',
    ' * The answer.',
    ' *',
    ' * @example',
    ' * ```ts',
    ...body,
    ' * ```',
    ' */',
    'export const answer = 42;',
    '',
  ].join('\n');
}

afterEach(() => {
  if (tree !== undefined) rmSync(tree, { recursive: true, force: true });
  tree = undefined;
});

describe('TSDoc examples', () => {
  it('all compile against the current code', () => {
    const { examples, problems } = checkExamples(repoRoot);
    expect(problems.map((p) => `${p.file}:${p.line}: ${p.message}`)).toEqual([]);
    // An extractor that finds nothing must not pass.
    expect(examples).toBeGreaterThan(200);
  });

  it('reports an example that uses a field that does not exist, at its line', () => {
    const root = treeWith({
      'src/core/good.ts': moduleWithExample('const n: number = answer + frame.height;'),
      'src/core/x.ts': moduleWithExample('const id: string = frame.cameraId;\nframe.missingField; // gone'),
    });
    expect(extractExamples(root).map((e) => [e.file, e.line])).toEqual([
      ['src/core/good.ts', 5],
      ['src/core/x.ts', 5],
    ]);
    const { examples, problems } = checkExamples(root, repoOptions);
    expect(examples).toBe(2);
    expect(problems).toEqual([
      {
        file: 'src/core/x.ts',
        line: 7,
        message: "Property 'missingField' does not exist on type 'CubeFrame'.",
      },
    ]);
  });

  it('maps a problem below a hoisted import and declaration to its own line', () => {
    const root = treeWith({
      'src/core/x.ts': moduleWithExample(
        "import { of } from 'rxjs';\ndeclare const late: number;\nof(late).subscribe((v) => v.toFixed());\nconst s: string = late;",
      ),
    });
    const { problems } = checkExamples(root, repoOptions);
    expect(problems).toEqual([
      { file: 'src/core/x.ts', line: 9, message: "Type 'number' is not assignable to type 'string'." },
    ]);
  });
});
