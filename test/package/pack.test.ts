/**
 * The packed package, as another Node service gets it: `npm pack` of a fresh build, installed in a
 * temporary project, where a strict NodeNext program that imports only `cubestream`,
 * `cubestream/operators`, `cubestream/connectors` and `cubestream/io` compiles and runs the
 * detector. A missing export, a wrong `types` or `import` path, or a file left out of the tarball
 * fails here.
 */
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PackedPackage, packPackage } from '../../scripts/pack-package.js';
import { compileConsumer, createConsumerProject, runInConsumer } from './consumer-project.js';

/** The fields of package.json that name files of the package. */
interface Manifest {
  readonly main?: string;
  readonly types?: string;
  readonly bin?: Readonly<Record<string, string>>;
  readonly exports?: Readonly<Record<string, string | Readonly<Record<string, string>>>>;
}

/** Every file path `manifest` names, relative to the package root (`./` dropped). */
function manifestPaths(manifest: Manifest): string[] {
  const targets = Object.values(manifest.exports ?? {}).flatMap((target) =>
    typeof target === 'string' ? [target] : Object.values(target),
  );
  const all = [manifest.main, manifest.types, ...Object.values(manifest.bin ?? {}), ...targets];
  return all.filter((file): file is string => file !== undefined).map((file) => path.posix.normalize(file));
}

let work: string;
let consumer: string;
let packed: PackedPackage;

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'cubestream-pack-test-'));
  consumer = path.join(work, 'consumer');
  await mkdir(consumer);
  packed = await packPackage(work);
  await createConsumerProject(consumer, packed.tarball);
}, 120_000);

afterAll(async () => {
  if (work !== undefined) await rm(work, { recursive: true, force: true });
});

describe('the packed cubestream package', () => {
  it('holds the compiled entry points, the CLI and its runtime files, and no sources, tests or maps', () => {
    const files = new Set(packed.files);
    for (const entry of [
      'dist/src/index',
      'dist/operators/index',
      'dist/connectors/index',
      'dist/src/io/index',
    ]) {
      expect(files, entry).toContain(`${entry}.js`);
      expect(files, entry).toContain(`${entry}.d.ts`);
    }
    for (const needed of [
      'package.json',
      'README.md',
      'bin/cubestream.js',
      'dist/src/app/cli.js',
      'src/app/web/assets/index.html',
      'models/demo/pipeline.yaml',
      'models/demo/weights.safetensors',
    ]) {
      expect(files, needed).toContain(needed);
    }
    const clutter = packed.files.filter(
      (file) =>
        /^(test|bench|scripts|configs|deploy|docs)\//.test(file) ||
        file.endsWith('.map') ||
        (file.endsWith('.ts') && !file.endsWith('.d.ts')),
    );
    expect(clutter).toEqual([]);
  });

  it('names in its manifest only files it holds (exports, types, main, bin)', async () => {
    const manifest = JSON.parse(
      await readFile(path.join(consumer, 'node_modules', 'cubestream', 'package.json'), 'utf8'),
    ) as Manifest;
    const named = manifestPaths(manifest);
    expect(Object.keys(manifest.exports ?? {}).sort()).toEqual([
      '.',
      './connectors',
      './io',
      './operators',
      './package.json',
    ]);
    expect(named.length).toBeGreaterThan(10);
    // TypeScript falls back from a missing `types` file to the `.d.ts` beside the `import` one, so
    // the program below would compile with a wrong path: each is checked here.
    const files = new Set(packed.files);
    expect(named.filter((file) => !files.has(file))).toEqual([]);
  });

  it('compiles a strict NodeNext program against the public entry points and runs the detector', async () => {
    await compileConsumer(consumer);
    const lines = (await runInConsumer(consumer, ['out/main.js'])).trim().split('\n');
    expect(lines[0]).toBe('model demo-lentils-2 tensors 6 engine onnx');
    expect(lines.slice(1)).toEqual([
      'decision cubestream.decision/1 true 0 16384 demo-lentils-2',
      'decision cubestream.decision/1 true 1 16384 demo-lentils-2',
      'decision cubestream.decision/1 true 2 16384 demo-lentils-2',
    ]);
  });

  it('keeps its internals private: a deep import is refused', async () => {
    const probe = `import('cubestream/dist/operators/internal/errors.js').then(() => console.log('imported'), (e) => console.log(e.code))`;
    expect((await runInConsumer(consumer, ['--input-type=module', '-e', probe])).trim()).toBe(
      'ERR_PACKAGE_PATH_NOT_EXPORTED',
    );
  });

  it('installs the cubestream command, which runs from the compiled build', async () => {
    const bin = path.join('node_modules', '.bin', 'cubestream');
    const out = await runInConsumer(consumer, [
      bin,
      'inspect',
      'node_modules/cubestream/models/demo/weights.safetensors',
      '--json',
    ]);
    expect(JSON.parse(out)).toMatchObject({ format: 'safetensors', tensors: expect.any(Array) });
  });
});
