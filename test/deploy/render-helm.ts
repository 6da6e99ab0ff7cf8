/**
 * A renderer of Helm charts for the tests, without helm: it knows exactly the Go-template subset
 * that deploy/helm/cubestream uses, and throws on anything else, so that a template the tests
 * cannot read fails them instead of being skipped.
 *
 * The subset:
 * - text, `{{ pipeline }}`, trim markers `{{- ` and ` -}}`, comments `{{/* ... *\/}}`;
 * - `{{ if pipeline }} ... {{ else }} ... {{ end }}`, and `{{ define "name" }} ... {{ end }}` at
 *   the top level of a file (named templates are shared by every file, as in Helm);
 * - pipelines `a | f b | g`, parentheses, string literals in double quotes, integer literals;
 * - fields of the root only: `.Values.a.b` (a key missing from the values is an error: every
 *   value a template reads must be in values.yaml), `.Release.Name|Namespace|Service`,
 *   `.Chart.Name|Version|AppVersion`, `.Files.Get "path"`, and `.` itself;
 * - functions: `include`, `default`, `quote`, `toYaml`, `indent`, `nindent`, `printf` (`%s`
 *   only), `sha256sum`, `and`, `or`, `not`.
 *
 * Values are merged as Helm merges them (maps key by key, `null` removes a key), and printed as
 * Helm prints them; numbers Go would print in exponent form (at 1e6 and above) are refused.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse, parseAllDocuments, stringify } from 'yaml';

/** Release facts of a render (`helm template <name> --namespace <namespace>`). */
export interface RenderOptions {
  /** Release name (default `cubestream`). */
  readonly releaseName?: string;
  /** Release namespace (default `default`). */
  readonly namespace?: string;
  /** Values merged over the chart's values.yaml, as `-f file` or `--set` would. */
  readonly values?: Readonly<Record<string, unknown>>;
}

/** One Kubernetes object of a rendered chart. */
export interface RenderedObject {
  /** The template it came from, e.g. `templates/deployment.yaml`. */
  readonly source: string;
  /** The parsed document. */
  readonly object: Record<string, unknown>;
}

/** The result of {@link renderChart}. */
export interface RenderedChart {
  /** Rendered text of each manifest template, by path relative to the chart. */
  readonly manifests: ReadonlyMap<string, string>;
  /** Every object of every manifest, in file then document order (empty documents dropped). */
  readonly objects: readonly RenderedObject[];
  /** templates/NOTES.txt, rendered ('' without one). */
  readonly notes: string;
  /** Dotted paths of the values the templates read (`image.tag`, `resources`, ...). */
  readonly valuesRead: ReadonlySet<string>;
  /** The merged values the chart was rendered with. */
  readonly values: Readonly<Record<string, unknown>>;
}

/** A construct the renderer does not know, or a template error (the message names the file). */
export class HelmRenderError extends Error {
  override name = 'HelmRenderError';
}

// ---- templates: lexing and parsing ------------------------------------------------------------

type Token =
  | { readonly kind: 'field'; readonly path: readonly string[] }
  | { readonly kind: 'ident'; readonly name: string }
  | { readonly kind: 'string'; readonly value: string }
  | { readonly kind: 'number'; readonly value: number }
  | { readonly kind: 'bool'; readonly value: boolean }
  | { readonly kind: 'pipe' | 'open' | 'close' };

type Operand =
  | { readonly kind: 'field'; readonly path: readonly string[] }
  | { readonly kind: 'literal'; readonly value: unknown }
  | { readonly kind: 'pipeline'; readonly pipeline: Pipeline };

/** A command of a pipeline: a function call, a method call (`.Files.Get`), or one operand. */
type Command =
  | { readonly kind: 'call'; readonly name: string; readonly args: readonly Operand[] }
  | { readonly kind: 'method'; readonly path: readonly string[]; readonly args: readonly Operand[] }
  | { readonly kind: 'operand'; readonly operand: Operand };

type Pipeline = readonly Command[];

type Node =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'output'; readonly pipeline: Pipeline }
  | { readonly kind: 'if'; readonly cond: Pipeline; readonly whenTrue: Node[]; readonly otherwise: Node[] };

/** A raw piece of a template: text, or the inside of one action with its trim markers. */
type Piece =
  | { readonly kind: 'text'; text: string }
  | {
      readonly kind: 'action';
      readonly body: string;
      readonly trimLeft: boolean;
      readonly trimRight: boolean;
    };

const SPACE = /[ \t\r\n]/;

/** Splits a template into text and actions, applying the trim markers to the text around them. */
function splitActions(source: string, file: string): Piece[] {
  const pieces: Piece[] = [];
  let at = 0;
  while (at < source.length) {
    const open = source.indexOf('{{', at);
    if (open < 0) {
      pieces.push({ kind: 'text', text: source.slice(at) });
      break;
    }
    pieces.push({ kind: 'text', text: source.slice(at, open) });
    // Find the closing delimiter, skipping string literals and comments.
    let i = open + 2;
    let close = -1;
    while (i < source.length) {
      if (source.startsWith('/*', i)) {
        const end = source.indexOf('*/', i + 2);
        if (end < 0) throw new HelmRenderError(`${file}: unclosed comment`);
        i = end + 2;
        continue;
      }
      const c = source[i];
      if (c === '"') {
        i++;
        while (i < source.length && source[i] !== '"') i += source[i] === '\\' ? 2 : 1;
        i++;
        continue;
      }
      if (c === '`') throw new HelmRenderError(`${file}: raw string literals are not supported`);
      if (source.startsWith('}}', i)) {
        close = i;
        break;
      }
      i++;
    }
    if (close < 0) throw new HelmRenderError(`${file}: unclosed action at offset ${open}`);
    let body = source.slice(open + 2, close);
    const trimLeft = body.startsWith('-') && SPACE.test(body[1] ?? '');
    const trimRight = body.endsWith('-') && SPACE.test(body[body.length - 2] ?? '');
    if (trimLeft) body = body.slice(1);
    if (trimRight) body = body.slice(0, -1);
    pieces.push({ kind: 'action', body: body.trim(), trimLeft, trimRight });
    at = close + 2;
  }
  // Apply the trim markers: `{{- ` eats the white space before, ` -}}` the white space after.
  for (let k = 0; k < pieces.length; k++) {
    const piece = pieces[k];
    if (piece?.kind !== 'action') continue;
    const before = pieces[k - 1];
    const after = pieces[k + 1];
    if (piece.trimLeft && before?.kind === 'text') before.text = before.text.replace(/[ \t\r\n]+$/, '');
    if (piece.trimRight && after?.kind === 'text') after.text = after.text.replace(/^[ \t\r\n]+/, '');
  }
  return pieces;
}

/** Tokenizes the inside of an action (a comment has been recognised before). */
function tokenize(body: string, file: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const fail = (what: string): never => {
    throw new HelmRenderError(`${file}: unsupported ${what} in {{ ${body} }}`);
  };
  while (i < body.length) {
    const c = body[i] ?? '';
    if (SPACE.test(c)) {
      i++;
    } else if (c === '|') {
      tokens.push({ kind: 'pipe' });
      i++;
    } else if (c === '(') {
      tokens.push({ kind: 'open' });
      i++;
    } else if (c === ')') {
      tokens.push({ kind: 'close' });
      i++;
    } else if (c === '"') {
      let j = i + 1;
      while (j < body.length && body[j] !== '"') j += body[j] === '\\' ? 2 : 1;
      if (j >= body.length) fail('unterminated string');
      const literal = body.slice(i, j + 1);
      if (/\\[^"\\nt]/.test(literal)) fail(`escape in ${literal}`);
      tokens.push({ kind: 'string', value: JSON.parse(literal) as string });
      i = j + 1;
    } else if (c === '.') {
      const match = /^\.(?:[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)?/.exec(body.slice(i));
      const text = match?.[0] ?? '.';
      tokens.push({ kind: 'field', path: text === '.' ? [] : text.slice(1).split('.') });
      i += text.length;
    } else if (/[0-9-]/.test(c)) {
      const match = /^-?[0-9]+(?![0-9.eExX])/.exec(body.slice(i));
      if (match === null) fail('number literal');
      tokens.push({ kind: 'number', value: Number(match?.[0]) });
      i += match?.[0].length ?? 1;
    } else if (/[A-Za-z_]/.test(c)) {
      const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(body.slice(i))?.[0] ?? '';
      if (name === 'true' || name === 'false') tokens.push({ kind: 'bool', value: name === 'true' });
      else tokens.push({ kind: 'ident', name });
      i += name.length;
    } else {
      fail(`character ${JSON.stringify(c)}`);
    }
  }
  return tokens;
}

/** The functions of the subset (anything else is refused at parse time). */
const FUNCTIONS = new Set([
  'include',
  'default',
  'quote',
  'toYaml',
  'indent',
  'nindent',
  'printf',
  'sha256sum',
  'and',
  'or',
  'not',
]);

/** Parses the tokens of a pipeline (the whole action, or what is inside parentheses). */
function parsePipeline(tokens: readonly Token[], file: string, body: string): Pipeline {
  let i = 0;
  const fail = (what: string): never => {
    throw new HelmRenderError(`${file}: ${what} in {{ ${body} }}`);
  };
  const operand = (): Operand => {
    const token = tokens[i++];
    if (token === undefined) return fail('missing operand');
    switch (token.kind) {
      case 'field':
        return { kind: 'field', path: token.path };
      case 'string':
      case 'number':
      case 'bool':
        return { kind: 'literal', value: token.value };
      case 'open': {
        let depth = 1;
        const start = i;
        while (i < tokens.length && depth > 0) {
          const t = tokens[i++];
          if (t?.kind === 'open') depth++;
          if (t?.kind === 'close') depth--;
        }
        if (depth !== 0) fail('unbalanced parentheses');
        return { kind: 'pipeline', pipeline: parsePipeline(tokens.slice(start, i - 1), file, body) };
      }
      case 'ident':
        return fail(`function ${token.name} used as a value (wrap it in parentheses)`);
      default:
        return fail(`unexpected ${token.kind}`);
    }
  };
  const commands: Command[] = [];
  while (i < tokens.length) {
    const head = tokens[i];
    const args: Operand[] = [];
    let command: Command;
    if (head?.kind === 'ident') {
      if (!FUNCTIONS.has(head.name)) fail(`unknown function or keyword "${head.name}"`);
      i++;
      while (i < tokens.length && tokens[i]?.kind !== 'pipe') args.push(operand());
      command = { kind: 'call', name: head.name, args };
    } else {
      const first = operand();
      while (i < tokens.length && tokens[i]?.kind !== 'pipe') args.push(operand());
      if (args.length === 0) command = { kind: 'operand', operand: first };
      else if (first.kind === 'field' && first.path.join('.') === 'Files.Get')
        command = { kind: 'method', path: first.path, args };
      else command = fail('arguments after a value (only .Files.Get takes some)');
    }
    commands.push(command);
    if (i < tokens.length) {
      i++; // the pipe
      if (i >= tokens.length) fail('pipe at the end');
    }
  }
  if (commands.length === 0) fail('empty pipeline');
  commands.slice(1).forEach((c) => {
    if (c.kind !== 'call') fail('a value after a pipe (only functions take piped values)');
  });
  return commands;
}

/** Parses a template file into nodes, collecting its `define`s into `defines`. */
function parseTemplate(source: string, file: string, defines: Map<string, Node[]>): Node[] {
  const root: Node[] = [];
  type Frame =
    | { readonly kind: 'root'; readonly nodes: Node[] }
    | { readonly kind: 'define'; readonly name: string; readonly nodes: Node[] }
    | { readonly kind: 'if'; readonly node: Extract<Node, { kind: 'if' }>; inElse: boolean };
  const stack: Frame[] = [{ kind: 'root', nodes: root }];
  const target = (): Node[] => {
    const top = stack[stack.length - 1];
    if (top === undefined) throw new HelmRenderError(`${file}: internal error`);
    if (top.kind === 'if') return top.inElse ? top.node.otherwise : top.node.whenTrue;
    return top.nodes;
  };
  for (const piece of splitActions(source, file)) {
    if (piece.kind === 'text') {
      if (piece.text !== '') target().push({ kind: 'text', text: piece.text });
      continue;
    }
    const body = piece.body;
    if (body.startsWith('/*')) {
      if (!body.endsWith('*/')) throw new HelmRenderError(`${file}: text after a comment in {{${body}}}`);
      continue;
    }
    const tokens = tokenize(body, file);
    const head = tokens[0];
    const keyword = head?.kind === 'ident' && !FUNCTIONS.has(head.name) ? head.name : undefined;
    switch (keyword) {
      case 'if': {
        const node: Extract<Node, { kind: 'if' }> = {
          kind: 'if',
          cond: parsePipeline(tokens.slice(1), file, body),
          whenTrue: [],
          otherwise: [],
        };
        target().push(node);
        stack.push({ kind: 'if', node, inElse: false });
        break;
      }
      case 'else': {
        const top = stack[stack.length - 1];
        if (tokens.length !== 1) throw new HelmRenderError(`${file}: unsupported {{ ${body} }} (else if)`);
        if (top?.kind !== 'if' || top.inElse) throw new HelmRenderError(`${file}: {{ else }} outside an if`);
        top.inElse = true;
        break;
      }
      case 'end': {
        const top = stack.pop();
        if (top === undefined || top.kind === 'root')
          throw new HelmRenderError(`${file}: {{ end }} without a block`);
        if (top.kind === 'define') defines.set(top.name, top.nodes);
        break;
      }
      case 'define': {
        const name = tokens[1];
        if (stack.length !== 1 || name?.kind !== 'string' || tokens.length !== 2)
          throw new HelmRenderError(`${file}: {{ ${body} }}: define "name" at the top level only`);
        if (defines.has(name.value))
          throw new HelmRenderError(`${file}: template "${name.value}" defined twice`);
        stack.push({ kind: 'define', name: name.value, nodes: [] });
        break;
      }
      case undefined:
        target().push({ kind: 'output', pipeline: parsePipeline(tokens, file, body) });
        break;
      default:
        throw new HelmRenderError(`${file}: unsupported action {{ ${body} }}`);
    }
  }
  if (stack.length !== 1) throw new HelmRenderError(`${file}: a block is not closed with {{ end }}`);
  return root;
}

// ---- values -----------------------------------------------------------------------------------

function isMap(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Helm's coalescing of values: maps merge key by key, anything else replaces, `null` deletes. */
export function mergeValues(
  base: Readonly<Record<string, unknown>>,
  override: Readonly<Record<string, unknown>>,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(override)) {
    const current = out[key];
    if (value === null) delete out[key];
    else if (isMap(value) && isMap(current)) out[key] = mergeValues(current, value);
    else out[key] = value;
  }
  return out;
}

/** Go templates' truth: false, 0, nil, and empty strings, lists and maps are false. */
function truthy(value: unknown): boolean {
  if (value === null || value === undefined || value === false || value === 0 || value === '') return false;
  if (Array.isArray(value)) return value.length > 0;
  if (isMap(value)) return Object.keys(value).length > 0;
  return true;
}

/** A value as `{{ x }}` prints it in Helm (numbers are float64 there, printed with %v). */
function printValue(value: unknown, where: string): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'boolean') return String(value);
  if (typeof value === 'number') {
    const magnitude = Math.abs(value);
    if (magnitude !== 0 && (magnitude >= 1e6 || magnitude < 1e-4))
      throw new HelmRenderError(`${where}: helm prints ${value} in exponent form (quote it in the values)`);
    return String(value);
  }
  throw new HelmRenderError(`${where}: cannot print a ${Array.isArray(value) ? 'list' : 'map'} (use toYaml)`);
}

function expectString(value: unknown, fn: string, where: string): string {
  if (typeof value !== 'string')
    throw new HelmRenderError(`${where}: ${fn} needs a string, got ${typeof value}`);
  return value;
}

function expectInt(value: unknown, fn: string, where: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value))
    throw new HelmRenderError(`${where}: ${fn} needs an integer, got ${JSON.stringify(value)}`);
  return value;
}

/** Sprig's indent: every line, the first included, prefixed by `n` spaces. */
function indent(n: number, text: string): string {
  const pad = ' '.repeat(n);
  return pad + text.replaceAll('\n', `\n${pad}`);
}

// ---- evaluation -------------------------------------------------------------------------------

interface Context {
  readonly chartDir: string;
  readonly defines: ReadonlyMap<string, Node[]>;
  readonly files: ReadonlyMap<string, string>;
  readonly valuesRead: Set<string>;
  readonly file: string;
  readonly depth: number;
}

/** The root object `.` of every template: Values, Release, Chart, Files. */
interface Root {
  readonly Values: Record<string, unknown>;
  readonly Release: Record<string, unknown>;
  readonly Chart: Record<string, unknown>;
}

function isRoot(value: unknown): value is Root {
  return isMap(value) && 'Values' in value && 'Release' in value && 'Chart' in value;
}

function resolveField(dot: unknown, fieldPath: readonly string[], ctx: Context): unknown {
  if (fieldPath.length === 0) return dot;
  const where = `${ctx.file}: .${fieldPath.join('.')}`;
  if (!isRoot(dot)) throw new HelmRenderError(`${where}: fields of anything but the root are not supported`);
  const [head, ...rest] = fieldPath;
  if (head === 'Values') {
    let node: unknown = dot.Values;
    const walked: string[] = [];
    for (const key of rest) {
      if (!isMap(node) || !Object.hasOwn(node, key)) {
        throw new HelmRenderError(
          `${where}: values have no ${[...walked, key].join('.')} (every value a template reads is in values.yaml)`,
        );
      }
      walked.push(key);
      node = node[key];
    }
    ctx.valuesRead.add(walked.join('.'));
    return node;
  }
  if ((head === 'Release' || head === 'Chart') && rest.length === 1) {
    const facts = dot[head];
    const key = rest[0] ?? '';
    if (!Object.hasOwn(facts, key)) throw new HelmRenderError(`${where}: not supported`);
    return facts[key];
  }
  throw new HelmRenderError(`${where}: not supported`);
}

function evalOperand(operand: Operand, dot: unknown, ctx: Context): unknown {
  switch (operand.kind) {
    case 'field':
      return resolveField(dot, operand.path, ctx);
    case 'literal':
      return operand.value;
    case 'pipeline':
      return evalPipeline(operand.pipeline, dot, ctx);
  }
}

function callFunction(name: string, args: unknown[], ctx: Context, dot: unknown): unknown {
  const where = `${ctx.file}: ${name}`;
  const arity = (min: number, max = min): void => {
    if (args.length < min || args.length > max)
      throw new HelmRenderError(
        `${where}: takes ${min === max ? min : `${min}-${max}`} arguments, got ${args.length}`,
      );
  };
  switch (name) {
    case 'include': {
      arity(2);
      const template = ctx.defines.get(expectString(args[0], name, where));
      if (template === undefined)
        throw new HelmRenderError(`${where}: no template ${JSON.stringify(args[0])}`);
      if (ctx.depth > 50) throw new HelmRenderError(`${where}: include nested too deep`);
      return renderNodes(template, args[1], { ...ctx, depth: ctx.depth + 1 });
    }
    case 'default':
      arity(1, 2);
      return args.length === 2 && truthy(args[1]) ? args[1] : args[0];
    case 'quote':
      return args
        .filter((a) => a !== null && a !== undefined)
        .map((a) => JSON.stringify(printValue(a, where)))
        .join(' ');
    case 'toYaml': {
      arity(1);
      if (args[0] === undefined) return 'null';
      return stringify(args[0], { sortMapEntries: true, lineWidth: 0 }).replace(/\n$/, '');
    }
    case 'indent':
      arity(2);
      return indent(expectInt(args[0], name, where), expectString(args[1], name, where));
    case 'nindent':
      arity(2);
      return `\n${indent(expectInt(args[0], name, where), expectString(args[1], name, where))}`;
    case 'printf': {
      if (args.length < 1) arity(1);
      const format = expectString(args[0], name, where);
      const rest = args.slice(1);
      const out = format.replace(/%[^%s]|%%|%s/g, (verb) => {
        if (verb === '%%') return '%';
        if (verb !== '%s') throw new HelmRenderError(`${where}: verb ${verb} is not supported (only %s)`);
        if (rest.length === 0) throw new HelmRenderError(`${where}: too few arguments`);
        return printValue(rest.shift(), where);
      });
      if (rest.length > 0) throw new HelmRenderError(`${where}: too many arguments`);
      return out;
    }
    case 'sha256sum':
      arity(1);
      return createHash('sha256')
        .update(expectString(args[0], name, where))
        .digest('hex');
    case 'and': {
      if (args.length < 1) arity(1);
      for (const a of args) if (!truthy(a)) return a;
      return args[args.length - 1];
    }
    case 'or': {
      if (args.length < 1) arity(1);
      for (const a of args) if (truthy(a)) return a;
      return args[args.length - 1];
    }
    case 'not':
      arity(1);
      return !truthy(args[0]);
    default:
      void dot;
      throw new HelmRenderError(`${where}: unknown function`);
  }
}

function evalPipeline(pipeline: Pipeline, dot: unknown, ctx: Context): unknown {
  let value: unknown;
  pipeline.forEach((command, index) => {
    const piped = index > 0 ? [value] : [];
    switch (command.kind) {
      case 'operand':
        value = evalOperand(command.operand, dot, ctx);
        break;
      case 'method': {
        const [file, ...extra] = command.args.map((a) => evalOperand(a, dot, ctx));
        if (extra.length > 0 || !isRoot(dot))
          throw new HelmRenderError(`${ctx.file}: .Files.Get takes one path`);
        const name = expectString(file, '.Files.Get', ctx.file);
        const content = ctx.files.get(name);
        if (content === undefined)
          throw new HelmRenderError(`${ctx.file}: .Files.Get "${name}": no such file`);
        value = content;
        break;
      }
      case 'call': {
        // Go evaluates and/or lazily, but every operand here is a side-effect-free field.
        const args = command.args.map((a) => evalOperand(a, dot, ctx));
        value = callFunction(command.name, [...args, ...piped], ctx, dot);
        break;
      }
    }
  });
  return value;
}

function renderNodes(nodes: readonly Node[], dot: unknown, ctx: Context): string {
  let out = '';
  for (const node of nodes) {
    switch (node.kind) {
      case 'text':
        out += node.text;
        break;
      case 'output':
        out += printValue(evalPipeline(node.pipeline, dot, ctx), ctx.file);
        break;
      case 'if':
        out += renderNodes(
          truthy(evalPipeline(node.cond, dot, ctx)) ? node.whenTrue : node.otherwise,
          dot,
          ctx,
        );
        break;
    }
  }
  return out;
}

// ---- charts -----------------------------------------------------------------------------------

async function listFiles(dir: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const rel = prefix === '' ? entry.name : `${prefix}/${entry.name}`;
    if (entry.isDirectory()) out.push(...(await listFiles(path.join(dir, entry.name), rel)));
    else if (entry.isFile()) out.push(rel);
  }
  return out.sort();
}

/**
 * Renders a chart as `helm template <releaseName> <chartDir> --namespace <namespace> -f values`
 * would (for the subset above), and parses every manifest with the `yaml` package.
 *
 * @throws {@link HelmRenderError} on a construct outside the subset, a value missing from the
 *   values, or a manifest that is not valid YAML
 */
export async function renderChart(chartDir: string, options: RenderOptions = {}): Promise<RenderedChart> {
  const chart = parse(await readFile(path.join(chartDir, 'Chart.yaml'), 'utf8')) as Record<string, unknown>;
  const defaults = (parse(await readFile(path.join(chartDir, 'values.yaml'), 'utf8')) ?? {}) as Record<
    string,
    unknown
  >;
  const values = mergeValues(defaults, options.values ?? {});
  const all = await listFiles(chartDir);
  const files = new Map<string, string>();
  for (const rel of all.filter((f) => !f.startsWith('templates/')))
    files.set(rel, await readFile(path.join(chartDir, rel), 'utf8'));

  const defines = new Map<string, Node[]>();
  const templates = new Map<string, Node[]>();
  for (const rel of all.filter((f) => f.startsWith('templates/'))) {
    const base = path.posix.basename(rel);
    if (!/\.(ya?ml|tpl|txt)$/.test(base))
      throw new HelmRenderError(`${rel}: not a template (.yaml, .tpl, .txt)`);
    const nodes = parseTemplate(await readFile(path.join(chartDir, rel), 'utf8'), rel, defines);
    if (!base.startsWith('_')) templates.set(rel, nodes);
  }

  const root: Root = {
    Values: values,
    Release: {
      Name: options.releaseName ?? 'cubestream',
      Namespace: options.namespace ?? 'default',
      Service: 'Helm',
    },
    Chart: { Name: chart.name, Version: chart.version, AppVersion: chart.appVersion },
  };
  const valuesRead = new Set<string>();
  const manifests = new Map<string, string>();
  const objects: RenderedObject[] = [];
  let notes = '';
  for (const [rel, nodes] of templates) {
    const text = renderNodes(nodes, root, { chartDir, defines, files, valuesRead, file: rel, depth: 0 });
    if (path.posix.basename(rel) === 'NOTES.txt') {
      notes = text;
      continue;
    }
    if (!/\.ya?ml$/.test(rel)) continue;
    manifests.set(rel, text);
    for (const doc of parseAllDocuments(text)) {
      const error = doc.errors[0];
      if (error !== undefined) throw new HelmRenderError(`${rel} (rendered): ${error.message}\n${text}`);
      const object: unknown = doc.toJS();
      if (object === null || object === undefined) continue;
      if (!isMap(object)) throw new HelmRenderError(`${rel} (rendered): a document is not a mapping`);
      objects.push({ source: rel, object });
    }
  }
  return { manifests, objects, notes, valuesRead, values };
}
