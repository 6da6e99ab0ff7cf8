import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

/**
 * Starts the worker thread whose module is `name` next to the caller (`callerUrl`, the caller's
 * `import.meta.url`): its compiled `.js`, or, when the caller runs from the TypeScript sources
 * (tests, `tsx`), `name.ts` through a bootstrap that registers tsx in the worker first (Node 20
 * workers do not inherit the parent's `--import` loaders).
 *
 * @example
 * ```ts
 * const worker = startWorker(import.meta.url, 'ort-pool-worker');
 * ```
 */
export function startWorker(callerUrl: string, name: string): Worker {
  const fromSource = callerUrl.endsWith('.ts');
  const entry = new URL(`./${name}.${fromSource ? 'ts' : 'js'}`, callerUrl);
  if (!fromSource) return new Worker(entry);
  // tsx's ESM api (`import` condition of `tsx/esm/api`), found next to its CommonJS twin.
  const tsxCjs = createRequire(import.meta.url).resolve('tsx/esm/api');
  const tsx = pathToFileURL(tsxCjs.replace(/\.cjs$/, '.mjs')).href;
  const bootstrap = `import(${JSON.stringify(tsx)}).then((api) => { api.register(); return import(${JSON.stringify(entry.href)}); });`;
  return new Worker(bootstrap, { eval: true });
}
