/**
 * A consumer's project for the packed cubestream (test/package/pack.test.ts): a TypeScript program
 * that imports only the public entry points, its strict NodeNext tsconfig, and the install of the
 * tarball, the one package that comes from it; its dependencies are links to the repository's
 * installed copies (the npm cache holds their tarballs but not the registry metadata an
 * offline `npm install` of a tarball needs to resolve them).
 */
import { execFile } from 'node:child_process';
import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { npmEnv, REPO_ROOT } from '../../scripts/pack-package.js';

const run = promisify(execFile);

/**
 * The consumer's program: reads the demo model's weights (`cubestream/io`) and bundle
 * (`cubestream`), runs three simulated blocks (`cubestream/connectors`) through the whole
 * detector (`cubestream/operators`), and prints each decision after a round trip through the
 * decision codec.
 */
export const CONSUMER_PROGRAM = `import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { type DecidedFrame, type Decision, encodeDecision, isCameraId, loadBundle, parseDecision } from 'cubestream';
import { type CameraSource, simulatedLineScan } from 'cubestream/connectors';
import { decodeSafetensors } from 'cubestream/io';
import { chooseScorer, deepSvddPipeline } from 'cubestream/operators';

const modelDir = fileURLToPath(new URL('models/demo/', import.meta.resolve('cubestream/package.json')));
const weights = decodeSafetensors(await readFile(\`\${modelDir}weights.safetensors\`));
const bundle = await loadBundle(modelDir);
console.log(\`model \${bundle.manifest.version} tensors \${weights.tensors.size} engine \${chooseScorer(bundle).engine}\`);
const camera: CameraSource = simulatedLineScan({ seed: 3, maxBlocks: 3 });
const decisions: Decision[] = [];
await new Promise<void>((resolve, reject) => {
  camera.frames.pipe(deepSvddPipeline(bundle, { scorerWorkers: 1 })).subscribe({
    next: (frame: DecidedFrame) => decisions.push(parseDecision(encodeDecision(frame.decision))),
    error: reject,
    complete: resolve,
  });
});
for (const d of decisions) {
  console.log(\`decision \${d.schema} \${isCameraId(d.cameraId)} \${d.frameId} \${d.pixels} \${d.modelVersion}\`);
}
`;

/** The consumer's tsconfig: strict, NodeNext; Node's types from the repository (no install here). */
const CONSUMER_TSCONFIG = {
  compilerOptions: {
    target: 'ES2022',
    module: 'NodeNext',
    moduleResolution: 'NodeNext',
    strict: true,
    // tfjs's own declarations do not pass a full check; cubestream's are checked by attw.
    skipLibCheck: true,
    types: ['node'],
    typeRoots: [path.join(REPO_ROOT, 'node_modules', '@types')],
    outDir: 'out',
  },
  files: ['main.ts'],
};

/** Links each of cubestream's runtime dependencies into `dir/node_modules` from the repository. */
async function linkDependencies(dir: string): Promise<void> {
  const pkg = JSON.parse(await readFile(path.join(REPO_ROOT, 'package.json'), 'utf8')) as {
    dependencies: Record<string, string>;
  };
  for (const name of Object.keys(pkg.dependencies)) {
    const link = path.join(dir, 'node_modules', name);
    await mkdir(path.dirname(link), { recursive: true });
    await symlink(path.join(REPO_ROOT, 'node_modules', name), link, 'dir');
  }
}

/**
 * Creates the consumer's project in `dir` (empty) and installs `tarball` there with npm
 * (offline, no scripts, no optional dependencies).
 */
export async function createConsumerProject(dir: string, tarball: string): Promise<void> {
  await writeFile(
    path.join(dir, 'package.json'),
    JSON.stringify({ name: 'consumer', version: '1.0.0', private: true, type: 'module' }),
  );
  await linkDependencies(dir);
  await run(
    'npm',
    [
      'install',
      '--offline',
      '--no-audit',
      '--no-fund',
      '--omit=optional',
      '--ignore-scripts',
      '--no-package-lock',
      '--prefix',
      dir,
      tarball,
    ],
    { cwd: dir, env: npmEnv() },
  );
  await writeFile(path.join(dir, 'main.ts'), CONSUMER_PROGRAM);
  await writeFile(path.join(dir, 'tsconfig.json'), JSON.stringify(CONSUMER_TSCONFIG, null, 2));
}

/** Compiles the consumer's program with the repository's TypeScript; rejects with tsc's output. */
export async function compileConsumer(dir: string): Promise<void> {
  const tsc = path.join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  try {
    await run(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: dir });
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    throw new Error(`the consumer's program does not compile:\n${stdout}${stderr}`);
  }
}

/** Runs `node <args>` in the consumer's project; resolves with its stdout. */
export async function runInConsumer(dir: string, args: readonly string[]): Promise<string> {
  const { stdout } = await run(process.execPath, [...args], { cwd: dir, timeout: 60_000 });
  return stdout;
}
