import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** A reference to the workspace's sibling folder (`../shared`: design notes, scenes) or its design file. */
const OUTSIDE =
  /\.\.\/shared\/(?!backoff|tls-files|with-timeout|nats-connect|mqtt-reason-codes|model-store|camera-leases|camera-state-store|camera-state-sync)|DESIGN(\.md| §)/;

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sources(full);
    return entry.name.endsWith('.ts') ? [full] : [];
  });
}

describe('the source stands on its own', () => {
  it('cites docs/ inside the repository, never ../shared or DESIGN', () => {
    const offenders = ['src', 'operators', 'connectors'].flatMap((top) =>
      sources(path.join(repoRoot, top)).flatMap((file) =>
        readFileSync(file, 'utf8')
          .split('\n')
          .flatMap((line, i) =>
            OUTSIDE.test(line) ? [`${path.relative(repoRoot, file)}:${i + 1}: ${line.trim()}`] : [],
          ),
      ),
    );
    expect(offenders).toEqual([]);
  });

  it('recognises such a reference (the check can fail)', () => {
    expect(OUTSIDE.test(' * (DESIGN §3.5)')).toBe(true);
    expect(OUTSIDE.test("readFile('../shared/data/abu-beach-1/cube.hdr')")).toBe(true);
    expect(OUTSIDE.test("import { backoffDelay } from '../shared/backoff.js';")).toBe(false);
  });

  it('every docs/ file a source comment cites exists', () => {
    const cited = new Set<string>();
    for (const top of ['src', 'operators', 'connectors']) {
      for (const file of sources(path.join(repoRoot, top))) {
        for (const m of readFileSync(file, 'utf8').matchAll(/docs\/([\w-]+\.(?:md|yaml|json))/g))
          cited.add(m[1] ?? '');
      }
    }
    const present = new Set(readdirSync(path.join(repoRoot, 'docs')));
    expect([...cited].filter((name) => !present.has(name))).toEqual([]);
    expect(cited.size).toBeGreaterThan(3);
  });
});
