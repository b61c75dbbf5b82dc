/**
 * @module config/validate
 * Parsed gateway.yaml → frozen `GatewayConfig`. Three passes that collect rather than stop: the
 * JSON Schema (ajv) for shape, types and ranges (`schema-errors.ts`); cross-field checks a schema
 * cannot express, such as dangling upstreams, duplicate route names or an exposed admin listener
 * (`checks.ts`); then normalisation into ms, bytes and cased names (`normalize.ts`). Beside them,
 * `lint.ts` collects warnings: valid settings that are probably mistakes. Each problem becomes a
 * `ConfigIssue` placed on its YAML key or value through the `SourceMap` built by `load.ts`. Runs at
 * start, on every reload and in `validate`.
 */
import { type ConfigIssue, ConfigError } from '../errors';
import { checkSemantics } from './checks';
import { lintConfig } from './lint';
import { normalize } from './normalize';
import type { RawGatewayConfig } from './schema';
import { restoreSubstitutedStrings, schemaIssues, splitPointer } from './schema-errors';
import type * as T from './types';

export { didYouMean, ptr } from './schema-errors';

/** A 1-based place in the file. */
export interface Position {
  readonly line: number;
  readonly col: number;
}

/** Where a node's key (for mapping entries) and value start. */
export interface NodeLocation {
  readonly key?: Position;
  readonly value: Position;
}

/** How parsed data maps back to the file; keys are JSON pointers, as in ajv's `instancePath`. */
export interface SourceMap {
  readonly nodes: ReadonlyMap<string, NodeLocation>;
  /** Keys dropped because their `${VAR:-}` was empty → that value's position. */
  readonly emptied: ReadonlyMap<string, Position>;
  /** Pointers that already have an issue (an unset variable); later checks stay quiet there. */
  readonly reported: ReadonlySet<string>;
  /** Plain `${VAR}` scalars re-read as YAML into a non-string → the text the variable held. */
  readonly substituted?: ReadonlyMap<string, string>;
}

/** A problem found before validation (YAML, environment), still to be placed and sorted. */
export interface PendingIssue {
  readonly pointer: string;
  readonly message: string;
  /** Overrides the source map, e.g. a duplicate key's position. */
  readonly at?: Position;
}

export interface ValidateOptions {
  /** The path as the user gave it; it starts every message. */
  readonly file: string;
  readonly sourceMap?: SourceMap;
  readonly pending?: readonly PendingIssue[];
}

/**
 * Validates parsed gateway.yaml and returns the normalised, deep-frozen config.
 * @throws ConfigError listing every problem, sorted by line and column.
 */
export function validateConfig(data: unknown, options: ValidateOptions): T.GatewayConfig {
  return validateConfigWithWarnings(data, options).config;
}

/** A valid config and what `lint.ts` found in it: likely mistakes that do not stop it working. */
export interface ValidatedConfig {
  readonly config: T.GatewayConfig;
  /** Sorted by line and column; each has `severity: 'warning'`. */
  readonly warnings: readonly ConfigIssue[];
}

/**
 * `validateConfig` plus the lint pass (`lint.ts`), which runs on the raw data too.
 * @throws ConfigError listing every problem, with the warnings beside them.
 */
export function validateConfigWithWarnings(data: unknown, options: ValidateOptions): ValidatedConfig {
  restoreSubstitutedStrings(data, options.sourceMap?.substituted);
  const issues = new Issues(data, options);
  for (const pending of options.pending ?? []) issues.addPending(pending);
  schemaIssues(data, issues);
  checkSemantics(data, issues);
  const warnings = new Issues(data, options, 'warning');
  lintConfig(data, warnings);
  if (issues.list.length > 0) throw new ConfigError(issues.sorted(), warnings.sorted());
  return {
    config: deepFreeze(normalize(data as RawGatewayConfig, options.file)),
    warnings: warnings.sorted(),
  };
}

/**
 * Freezes an object graph in place, so no module can change the running config.
 * An object that is already frozen is taken to be frozen all the way down.
 */
export function deepFreeze<V>(value: V): V {
  // Children first, so a frozen object is always frozen all the way down and can be skipped.
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

// ---------------------------------------------------------------------------------------------
// Issues: pointers → file positions and display paths

const IDENTIFIER = /^[A-Za-z_$][\w$-]*$/;

/** `/routes/2/retry/attempts` → `routes[2].retry.attempts`; odd keys are quoted. */
function displayPath(data: unknown, pointer: string): string {
  let path = '';
  let node = data;
  for (const segment of splitPointer(pointer)) {
    if (Array.isArray(node)) path += `[${segment}]`;
    else if (IDENTIFIER.test(segment)) path += path ? `.${segment}` : segment;
    else path += `[${JSON.stringify(segment)}]`;
    node = typeof node === 'object' && node !== null ? (node as Record<string, unknown>)[segment] : undefined;
  }
  return path;
}

/** Collects issues from every pass, placed through the source map and deduplicated. */
export class Issues {
  readonly list: ConfigIssue[] = [];
  private readonly seen = new Set<string>();

  constructor(
    readonly data: unknown,
    private readonly options: ValidateOptions,
    /** What every issue recorded here is; errors leave the field out. */
    private readonly severity: 'error' | 'warning' = 'error',
  ) {}

  /** Records a problem at a pointer's key or value, unless that place was already reported. */
  add(pointer: string, message: string, where: 'key' | 'value' = 'value'): void {
    const reported = this.options.sourceMap?.reported;
    if (reported && [...reported].some((p) => pointer === p || pointer.startsWith(`${p}/`))) return;
    this.record(pointer, message, this.locate(pointer, where));
  }

  /** Records a problem found before validation, at its own position when it has one. */
  addPending({ pointer, message, at }: PendingIssue): void {
    this.record(pointer, message, at ?? this.locate(pointer, 'value'));
  }

  private record(pointer: string, message: string, position: Position): void {
    const issue: ConfigIssue = {
      file: this.options.file,
      ...position,
      path: displayPath(this.data, pointer),
      message,
      ...(this.severity === 'warning' ? { severity: 'warning' as const } : {}),
    };
    const id = `${issue.line}:${issue.col}:${issue.path}:${message}`;
    if (this.seen.has(id)) return;
    this.seen.add(id);
    this.list.push(issue);
  }

  emptiedAt(pointer: string): Position | undefined {
    return this.options.sourceMap?.emptied.get(pointer);
  }

  /** Line of a node, to point from one issue to a related place. */
  lineOf(pointer: string): number {
    return this.locate(pointer, 'value').line;
  }

  sorted(): ConfigIssue[] {
    return [...this.list].sort((a, b) => a.line - b.line || a.col - b.col);
  }

  private locate(pointer: string, where: 'key' | 'value'): Position {
    const nodes = this.options.sourceMap?.nodes;
    // A missing node (a defaulted or dropped key) is reported at its nearest parent.
    for (let p = pointer; nodes; p = p.slice(0, Math.max(0, p.lastIndexOf('/')))) {
      const node = nodes.get(p);
      if (node) return (where === 'key' && p === pointer ? node.key : undefined) ?? node.value;
      if (p === '') break;
    }
    return { line: 0, col: 0 };
  }
}
