/**
 * @module config/load
 * Reads gateway.yaml: YAML → plain data with a source map of every key and value, environment
 * substitution on the parsed scalars, then `validate.ts`. The entry point for `main.ts` (start,
 * SIGHUP reload) and the `validate` / `routes` commands. Throws `ConfigError` with every problem.
 */
import { readFileSync } from 'node:fs';
import {
  type Alias,
  type Document,
  isAlias,
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  parseDocument,
  type Scalar,
  type YAMLError,
  type YAMLMap,
  type YAMLSeq,
} from 'yaml';
import { ConfigError } from '../errors';
import { expandScalar, maskReferences, unmaskReferences } from './env';
import type { GatewayConfig } from './types';
import {
  type NodeLocation,
  type PendingIssue,
  type Position,
  ptr,
  type SourceMap,
  type ValidatedConfig,
  validateConfigWithWarnings,
} from './validate';

export { deepFreeze } from './validate';

/**
 * Reads, parses and validates a config file. Variables come from `env` (read again on each call,
 * so a reload sees the current environment).
 * @param file path as the user gave it; every message starts with it.
 * @throws ConfigError when the file cannot be read or is not a valid config.
 */
export function loadConfig(file: string, env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  return loadConfigWithWarnings(file, env).config;
}

/** `loadConfig`, plus the warnings of `lint.ts` (likely mistakes that do not stop the config). */
export function loadConfigWithWarnings(file: string, env: NodeJS.ProcessEnv = process.env): ValidatedConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError([
      { file, line: 0, col: 0, path: '', message: `cannot read the config file: ${readError(err)}` },
    ]);
  }
  return parseConfigWithWarnings(text, file, env);
}

/**
 * Parses and validates config text; `file` is only used in messages.
 * @throws ConfigError listing every problem, sorted by line and column.
 */
export function parseConfig(text: string, file: string, env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  return parseConfigWithWarnings(text, file, env).config;
}

/** `parseConfig`, plus the warnings of `lint.ts`. @throws ConfigError */
export function parseConfigWithWarnings(
  text: string,
  file: string,
  env: NodeJS.ProcessEnv = process.env,
): ValidatedConfig {
  const lineCounter = new LineCounter();
  // merge: `<<: *defaults` is how operators share settings between upstreams.
  const doc = parseDocument(maskReferences(text), { lineCounter, prettyErrors: false, merge: true });
  const at = (offset: number): Position => lineCounter.linePos(offset);
  // The walker reports duplicate keys itself, with their path; anything else means no usable tree.
  const syntax = doc.errors.filter((e) => e.code !== 'DUPLICATE_KEY');
  if (syntax.length > 0) {
    const issues = syntax.map((e) => ({ file, ...at(e.pos[0]), path: '', message: yamlMessage(e, text) }));
    throw new ConfigError(issues.sort((a, b) => a.line - b.line || a.col - b.col));
  }
  const walker = new Walker(doc, env, at);
  const data = walker.walk();
  const warnings = doc.warnings.map((w) => ({
    pointer: '',
    message: yamlMessage(w, text),
    at: at(w.pos[0]),
  }));
  return validateConfigWithWarnings(data, {
    file,
    sourceMap: walker,
    pending: [...warnings, ...walker.pending],
  });
}

function yamlMessage(error: YAMLError, text: string): string {
  const said = unmaskReferences(error.message);
  const message = `invalid YAML: ${said.charAt(0).toLowerCase()}${said.slice(1)}`;
  const lineStart = text.lastIndexOf('\n', error.pos[0] - 1) + 1;
  const lineEnd = text.indexOf('\n', lineStart);
  const line = text.slice(lineStart, lineEnd === -1 ? undefined : lineEnd);
  // `{` is a flow indicator, so an unquoted ${VAR} inside [ ] or { } is a syntax error.
  const hint =
    /[[{]/.test(line) && line.includes('${')
      ? ' (inside [...] or {...}, quote a value that holds ${...})'
      : '';
  return message + hint;
}

function readError(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES') return 'permission denied';
  if (code === 'EISDIR') return 'it is a directory';
  return err instanceof Error ? err.message : String(err);
}

/** A node that adds nothing to its parent: an empty `${VAR:-}`. */
const ABSENT = Symbol('absent');
/** A node already reported (unset variable, bad alias); sequences keep a placeholder for it. */
const FAILED = Symbol('failed');

/** Aliases can expand a small file into a huge tree ("billion laughs"); this bounds the walk. */
const MAX_NODES = 100_000;

/** YAML document → plain data, recording where each pointer came from. */
class Walker implements SourceMap {
  readonly nodes = new Map<string, NodeLocation>();
  readonly emptied = new Map<string, Position>();
  readonly reported = new Set<string>();
  readonly substituted = new Map<string, string>();
  readonly pending: PendingIssue[] = [];
  private readonly ancestors = new Set<unknown>();
  private budget = MAX_NODES;

  constructor(
    private readonly doc: Document,
    private readonly env: NodeJS.ProcessEnv,
    private readonly at: (offset: number) => Position,
  ) {}

  walk(): unknown {
    const data = this.node(this.doc.contents, '', undefined);
    return data === ABSENT || data === FAILED ? null : data;
  }

  /** A problem that leaves no value here; later checks of this place would only repeat it. */
  private fail(pointer: string, message: string, at?: Position): typeof FAILED {
    this.note(pointer, message, at);
    this.reported.add(pointer);
    return FAILED;
  }

  /** A problem beside a value that is still checked (a duplicate key keeps its first value). */
  private note(pointer: string, message: string, at?: Position): void {
    this.pending.push({ pointer, message, at });
  }

  private node(node: unknown, pointer: string, key: Position | undefined): unknown {
    if (--this.budget < 0) {
      return this.budget === -1
        ? this.fail(pointer, `the document expands to over ${MAX_NODES} nodes`)
        : FAILED;
    }
    if (isAlias(node)) return this.alias(node, pointer, key);
    const range = (node as { range?: [number, number, number] } | null)?.range;
    const value = range ? this.at(range[0]) : (key ?? { line: 0, col: 0 });
    this.nodes.set(pointer, { key, value });
    if (isMap(node)) return this.collection(node, () => this.map(node, pointer));
    if (isSeq(node)) return this.collection(node, () => this.seq(node, pointer));
    if (isScalar(node)) return this.scalar(node, pointer, value);
    return null;
  }

  private alias(alias: Alias, pointer: string, key: Position | undefined): unknown {
    const target = alias.resolve(this.doc);
    const here = alias.range ? this.at(alias.range[0]) : undefined;
    if (!target)
      return this.fail(pointer, `unknown anchor: *${alias.source} is used but never defined`, here);
    if (this.ancestors.has(target)) return this.fail(pointer, `alias *${alias.source} contains itself`, here);
    const value = this.node(target, pointer, key);
    // Children keep the anchor's positions; the value itself is where the alias is written.
    if (here) this.nodes.set(pointer, { key, value: here });
    return value;
  }

  private collection<R>(node: unknown, walk: () => R): R {
    this.ancestors.add(node);
    try {
      return walk();
    } finally {
      this.ancestors.delete(node);
    }
  }

  private scalar(node: Scalar, pointer: string, position: Position): unknown {
    if (typeof node.value !== 'string') return node.value;
    // An explicit tag (`!!str`) or quotes mean "this is a string", whatever it expands to.
    const plain = node.type === 'PLAIN' && !node.tag;
    const expansion = expandScalar(unmaskReferences(node.value), plain, this.env);
    if (expansion.kind === 'value') {
      if (expansion.text !== undefined && typeof expansion.value !== 'string') {
        this.substituted.set(pointer, expansion.text);
      }
      return expansion.value;
    }
    if (expansion.kind === 'absent') {
      this.emptied.set(pointer, position);
      return ABSENT;
    }
    for (const message of expansion.messages) this.fail(pointer, message);
    return FAILED;
  }

  private seq(node: YAMLSeq, pointer: string): unknown[] {
    const out: unknown[] = [];
    for (const item of node.items) {
      const value = this.node(item, `${pointer}${ptr(out.length)}`, undefined);
      // An emptied item vanishes; a failed one keeps its index so later items keep theirs.
      if (value === FAILED) out.push(null);
      else if (value !== ABSENT) out.push(value);
    }
    return out;
  }

  private map(node: YAMLMap, pointer: string): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    this.fillMap(node, pointer, out, false);
    return out;
  }

  /** Adds `node`'s entries to `out`; merged (`<<`) entries never override explicit ones. */
  private fillMap(node: YAMLMap, pointer: string, out: Record<string, unknown>, merging: boolean): void {
    const sources: unknown[] = [];
    const lines = new Map<string, number>();
    for (const pair of node.items) {
      if (isScalar(pair.key) && typeof pair.key.value === 'symbol') {
        sources.push(pair.value);
        continue;
      }
      const keyAt = isScalar(pair.key) && pair.key.range ? this.at(pair.key.range[0]) : undefined;
      const name = isScalar(pair.key) ? unmaskReferences(String(pair.key.value ?? '')) : undefined;
      if (name === undefined) {
        this.note(pointer, 'keys must be plain strings, not lists or mappings', keyAt);
        continue;
      }
      const child = `${pointer}${ptr(name)}`;
      const first = lines.get(name);
      if (first !== undefined && !merging) {
        this.note(child, `duplicate key "${name}"; it is already set on line ${first}`, keyAt);
      }
      lines.set(name, keyAt?.line ?? 0);
      if (Object.hasOwn(out, name)) continue;
      const value = this.node(pair.value, child, keyAt);
      // defineProperty: a key such as "__proto__" must stay a plain entry.
      if (value !== ABSENT && value !== FAILED) {
        Object.defineProperty(out, name, { value, enumerable: true, writable: true, configurable: true });
      }
    }
    for (const source of sources) this.merge(source, pointer, out);
  }

  private merge(source: unknown, pointer: string, out: Record<string, unknown>): void {
    const targets = isSeq(source) ? source.items : [source];
    for (const target of targets) {
      const resolved = isAlias(target) ? target.resolve(this.doc) : target;
      if (isMap(resolved)) this.collection(resolved, () => this.fillMap(resolved, pointer, out, true));
      else this.note(pointer, '<< merges a mapping or a list of mappings (e.g. <<: *defaults)');
    }
  }
}
