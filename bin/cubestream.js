#!/usr/bin/env node
// Entry point of the `cubestream` command. Runs the compiled CLI (dist/, built by `npm ci` via
// the `prepare` script); falls back to the TypeScript sources through tsx when dist/ is absent.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const compiled = new URL('../dist/src/app/cli.js', import.meta.url);
if (existsSync(fileURLToPath(compiled))) {
  await import(compiled.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import(new URL('../src/app/cli.ts', import.meta.url).href);
}
