/**
 * Compiles every TSDoc `@example` (```ts blocks) of src/, operators/ and connectors/ so that
 * examples cannot drift from the code (`test/docs/tsdoc-examples.test.ts` runs it).
 *
 * Each example becomes a virtual module next to its source file: the source module's exports
 * are imported into it, its own `import` and `declare` lines are hoisted to the top level, and
 * the rest is the body of an async function. Placeholders that many examples use without
 * defining them (`bundle`, `frames$`, ...) are declared, with their real types, in
 * scripts/example-placeholders.ts; an example declares a rarer one itself
 * (`declare const req: IncomingMessage;`). The program is type-checked with the repository's
 * strict options, and the problems of the examples (and of the placeholders) are reported at
 * their line in the source file's comment.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';

/** One ```ts block of a TSDoc `@example`. */
export interface DocExample {
  /** Repository-relative source file. */
  readonly file: string;
  /** 1-based line of the opening fence in the source file. */
  readonly line: number;
  readonly code: string;
}

/** A compile error in an example, located in the source file's comment. */
export interface ExampleProblem {
  readonly file: string;
  readonly line: number;
  readonly message: string;
}

const ROOTS = ['src', 'operators', 'connectors'];

/** The package's public entry points (package.json `exports`) and their source files. */
const PUBLIC_ENTRY_POINTS: Readonly<Record<string, string>> = {
  cubestream: 'src/index.ts',
  'cubestream/operators': 'operators/index.ts',
  'cubestream/connectors': 'connectors/index.ts',
  'cubestream/io': 'src/io/index.ts',
};
const PLACEHOLDERS = 'scripts/example-placeholders.ts';

function sourceFiles(root: string): string[] {
  const files: string[] = [];
  const walk = (dir: string): void => {
    if (!existsSync(dir)) return;
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) files.push(full);
    }
  };
  for (const top of ROOTS) walk(path.join(root, top));
  return files.sort();
}

/** Every ```ts example inside a TSDoc comment's `@example` under `root`. */
export function extractExamples(root: string): DocExample[] {
  const examples: DocExample[] = [];
  for (const absolute of sourceFiles(root)) {
    const file = path.relative(root, absolute).split(path.sep).join('/');
    const lines = readFileSync(absolute, 'utf8').split('\n');
    let inExample = false;
    let fence: { line: number; code: string[] } | undefined;
    lines.forEach((raw, index) => {
      const text = raw.replace(/^\s*\*( |$)/, '');
      const trimmed = raw.trim();
      if (trimmed.startsWith('/**')) inExample = false;
      if (/^\s*\*?\s*@example\b/.test(raw)) inExample = true;
      else if (/^\s*\*\s*@\w+/.test(raw) && fence === undefined) inExample = false;
      if (fence !== undefined) {
        if (/^```\s*$/.test(text.trim())) {
          examples.push({ file, line: fence.line, code: fence.code.join('\n') });
          fence = undefined;
        } else fence.code.push(text);
      } else if (inExample && /^```(ts|typescript)\s*$/.test(text.trim())) {
        fence = { line: index + 1, code: [] };
      }
    });
  }
  return examples;
}

const EXPORTED =
  /^export\s+(?:declare\s+)?(?:abstract\s+)?(?:async\s+)?(?:function\*?|const|let|class|interface|type|enum)\s+([A-Za-z_$][\w$]*)/gm;
const EXPORT_LIST = /^export\s+(?:type\s+)?\{([^}]*)\}/gm;

function exportedNames(text: string): string[] {
  const names = new Set<string>();
  for (const m of text.matchAll(EXPORTED)) if (m[1] !== undefined) names.add(m[1]);
  for (const m of text.matchAll(EXPORT_LIST)) {
    for (const part of (m[1] ?? '').split(',')) {
      const name = part
        .trim()
        .replace(/^type\s+/, '')
        .split(/\s+as\s+/)
        .pop()
        ?.trim();
      if (name !== undefined && name !== '') names.add(name);
    }
  }
  return [...names];
}

/** An example as a module: its text and, per line, the example line it came from (0-based; -1: generated). */
interface ExampleModule {
  readonly text: string;
  readonly origin: readonly number[];
}

/** Splits an example into top-level lines (`import`, `declare`; an import may span lines) and body lines. */
function splitExample(code: string): { top: number[]; body: number[] } {
  const top: number[] = [];
  const body: number[] = [];
  let openImport = false;
  code.split('\n').forEach((line, index) => {
    if (openImport || /^import\s/.test(line)) {
      top.push(index);
      openImport = !/(\bfrom\s*|^import\s*)['"][^'"]+['"];?\s*$/.test(line);
    } else if (/^declare\s/.test(line)) top.push(index);
    else body.push(index);
  });
  return { top, body };
}

function exampleModule(example: DocExample, sourceText: string, placeholders: string): ExampleModule {
  const own = exportedNames(sourceText);
  const base = `./${path.basename(example.file, '.ts')}.js`;
  const lines = example.code.split('\n');
  const { top, body } = splitExample(example.code);
  const importLines = top.map((i) => lines[i] ?? '').filter((l) => !/^declare\s/.test(l));
  const importedHere = new Set(
    importLines
      .join('\n')
      .replace(/from\s*['"][^'"]*['"]/g, '')
      .match(/[A-Za-z_$][\w$]*/g) ?? [],
  );
  const fromSource = own.filter((name) => !importedHere.has(name));
  const generated = [
    `import '${placeholders.replace(/^(?!\.)/, './')}';`,
    ...(fromSource.length > 0 ? [`import { ${fromSource.join(', ')} } from '${base}';`] : []),
  ];
  const out: { line: string; origin: number }[] = generated.map((line) => ({ line, origin: -1 }));
  for (const i of top) out.push({ line: lines[i] ?? '', origin: i });
  out.push({ line: 'export async function example(): Promise<void> {', origin: -1 });
  for (const i of body) out.push({ line: lines[i] ?? '', origin: i });
  out.push({ line: '}', origin: -1 }, { line: '', origin: -1 });
  return { text: out.map((o) => o.line).join('\n'), origin: out.map((o) => o.origin) };
}

/** Where to find the compiler options and the placeholders; both default to the files under `root`. */
export interface CheckExamplesOptions {
  /** tsconfig.json whose compiler options the examples are checked with. */
  readonly tsconfig?: string;
  /** The module that declares the placeholders (scripts/example-placeholders.ts). */
  readonly placeholders?: string;
}

/** Type-checks every example under `root`; returns the problems (empty when all compile). */
export function checkExamples(
  root: string,
  options: CheckExamplesOptions = {},
): { examples: number; problems: ExampleProblem[] } {
  const examples = extractExamples(root);
  const tsconfig = path.resolve(options.tsconfig ?? path.join(root, 'tsconfig.json'));
  const placeholders = path.resolve(options.placeholders ?? path.join(root, PLACEHOLDERS));
  const config = ts.readConfigFile(tsconfig, ts.sys.readFile);
  const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, path.dirname(tsconfig));
  const compilerOptions: ts.CompilerOptions = {
    ...parsed.options,
    noEmit: true,
    rootDir: undefined,
    verbatimModuleSyntax: false,
    isolatedModules: false,
    noUnusedLocals: false,
    noUnusedParameters: false,
    allowUnreachableCode: true,
    // Examples import the public entry points by package name, as a user would.
    paths: Object.fromEntries(
      Object.entries(PUBLIC_ENTRY_POINTS).map(([name, file]) => [name, [path.join(root, file)]]),
    ),
  };
  const virtual = new Map<string, { example: DocExample; module: ExampleModule }>();
  const texts = new Map<string, string>();
  examples.forEach((example, index) => {
    const sourcePath = path.join(root, example.file);
    const sourceText = texts.get(sourcePath) ?? readFileSync(sourcePath, 'utf8');
    texts.set(sourcePath, sourceText);
    const name = path.join(path.dirname(sourcePath), `__example_${index}_${path.basename(example.file)}`);
    const relative = path.relative(path.dirname(sourcePath), placeholders).split(path.sep).join('/');
    virtual.set(name, {
      example,
      module: exampleModule(example, sourceText, relative.replace(/\.ts$/, '.js')),
    });
  });
  const host = ts.createCompilerHost(compilerOptions);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (fileName, languageVersion, onError, shouldCreate) => {
    const v = virtual.get(path.resolve(fileName));
    if (v !== undefined) return ts.createSourceFile(fileName, v.module.text, languageVersion, true);
    return getSourceFile(fileName, languageVersion, onError, shouldCreate);
  };
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (fileName) => virtual.has(path.resolve(fileName)) || fileExists(fileName);
  const readFile = host.readFile.bind(host);
  host.readFile = (fileName) => virtual.get(path.resolve(fileName))?.module.text ?? readFile(fileName);
  const program = ts.createProgram([...virtual.keys(), placeholders], compilerOptions, host);
  // The examples' own problems, the placeholders' and the program's; the repository's own
  // sources are tsc's business (`npm run typecheck`).
  const checked = program
    .getSourceFiles()
    .filter((f) => virtual.has(path.resolve(f.fileName)) || path.resolve(f.fileName) === placeholders);
  const diagnostics = [
    ...program.getOptionsDiagnostics(),
    ...program.getGlobalDiagnostics(),
    ...checked.flatMap((f) => [...program.getSyntacticDiagnostics(f), ...program.getSemanticDiagnostics(f)]),
  ];
  const problems: ExampleProblem[] = [];
  for (const diagnostic of diagnostics) {
    const fileName = diagnostic.file === undefined ? undefined : path.resolve(diagnostic.file.fileName);
    const v = fileName === undefined ? undefined : virtual.get(fileName);
    const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n');
    if (diagnostic.file === undefined || diagnostic.start === undefined) {
      problems.push({ file: fileName ?? '(program)', line: 0, message });
      continue;
    }
    const { line } = diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start);
    if (v === undefined) {
      problems.push({
        file: path
          .relative(root, fileName ?? '')
          .split(path.sep)
          .join('/'),
        line: line + 1,
        message,
      });
      continue;
    }
    const origin = v.module.origin[line] ?? -1;
    problems.push({ file: v.example.file, line: v.example.line + 1 + Math.max(0, origin), message });
  }
  return { examples: examples.length, problems };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  const { examples, problems } = checkExamples(root);
  for (const p of problems) console.error(`${p.file}:${p.line}: ${p.message}`);
  console.log(`${examples} examples, ${problems.length} problem(s)`);
  process.exit(problems.length > 0 ? 1 : 0);
}
