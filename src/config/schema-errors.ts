/**
 * @module config/schema-errors
 * Pass 1 of `validate.ts`: checks parsed gateway.yaml against the JSON Schema (ajv) and turns each
 * ajv error into one readable `ConfigIssue` on its YAML key or value — unknown keys with a
 * did-you-mean, missing keys, and "expected X, got Y" for values, one message per value. Also holds
 * the JSON-pointer helpers (ajv's `instancePath` form) and `didYouMean`, which `checks.ts` reuses.
 */
import Ajv, { type ErrorObject } from 'ajv';
import { FORMATS, GatewaySchema, PATTERN_EXPECTATIONS } from './schema';
import { describeValue } from './units';
import type { Issues } from './validate';

// ---------------------------------------------------------------------------------------------
// JSON pointers, as in ajv's `instancePath`

/** JSON pointer for path segments: `ptr('routes', 2, 'name')` → `/routes/2/name`. */
export function ptr(...segments: readonly (string | number)[]): string {
  return segments.map((s) => `/${String(s).replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');
}

/** `/routes/2/name` → `['routes', '2', 'name']`, unescaping `~1` and `~0`. */
export function splitPointer(pointer: string): string[] {
  return pointer === ''
    ? []
    : pointer
        .slice(1)
        .split('/')
        .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

// ---------------------------------------------------------------------------------------------
// Pass 1: the JSON Schema

let compiled: ReturnType<Ajv['compile']> | undefined;

function schemaValidator(): ReturnType<Ajv['compile']> {
  if (compiled) return compiled;
  // verbose: errors carry the failing schema and data, which the messages are written from.
  const ajv = new Ajv({ allErrors: true, verbose: true, strictTypes: false });
  for (const [name, parse] of Object.entries(FORMATS)) {
    ajv.addFormat(name, { type: 'string', validate: (value: string) => parse(value).ok });
  }
  compiled = ajv.compile(GatewaySchema);
  return compiled;
}

/**
 * `port: ${PORT}` is re-read as YAML so it becomes a number. Where the schema wants a string
 * (a token, a header value), that would make `TOKEN=123456` or `1e10` fail, depending on what the
 * variable happens to hold; there the text the variable held is put back.
 */
export function restoreSubstitutedStrings(
  data: unknown,
  substituted: ReadonlyMap<string, string> | undefined,
): void {
  const validate = schemaValidator();
  if (!substituted?.size || validate(data)) return;
  for (const error of validate.errors ?? []) {
    const text = substituted.get(error.instancePath);
    if (text === undefined || error.keyword !== 'type' || error.params.type !== 'string') continue;
    const segments = splitPointer(error.instancePath);
    const key = segments.pop();
    const parent = segments.reduce<unknown>((node, s) => (node as Record<string, unknown>)[s], data);
    if (key !== undefined) (parent as Record<string, unknown>)[key] = text;
  }
}

type Schema = Readonly<Record<string, unknown>>;
const asSchema = (value: unknown): Schema =>
  typeof value === 'object' && value !== null ? (value as Schema) : {};

/** Records one issue per problem the JSON Schema finds in `data`. */
export function schemaIssues(data: unknown, issues: Issues): void {
  const validate = schemaValidator();
  if (validate(data)) return;
  const errors = collapseAnyOf(validate.errors ?? []);
  const valueErrors = new Map<string, ErrorObject>();
  for (const error of errors) {
    if (error.keyword === 'additionalProperties') unknownKey(error, issues);
    else if (error.keyword === 'propertyNames') badKeyName(error, issues);
    else if (error.keyword === 'required') missingKey(error, issues);
    else if (error.propertyName === undefined) {
      // One message per value: a format error says more than the pattern that shadows it.
      const kept = valueErrors.get(error.instancePath);
      if (!kept || rank(error) < rank(kept)) valueErrors.set(error.instancePath, error);
    }
  }
  for (const error of valueErrors.values()) issues.add(error.instancePath, valueMessage(error));
}

const PREFERRED = ['format', 'anyOf', 'type', 'const', 'enum'];
const rank = (error: ErrorObject): number => {
  const index = PREFERRED.indexOf(error.keyword);
  return index === -1 ? PREFERRED.length : index;
};
const MISMATCH = new Set(['type', 'const', 'enum']);
const STRUCTURE = new Set(['additionalProperties', 'required', 'propertyNames']);

/**
 * ajv reports every branch of a failed `anyOf`. When the value has the type of exactly one
 * branch, that branch's errors are the useful ones (a target mapping with a typo); otherwise one
 * message for the whole union reads better ("expected an integer >= 1 or "auto"").
 */
function collapseAnyOf(errors: readonly ErrorObject[]): ErrorObject[] {
  let result = [...errors];
  const unions = errors
    .filter((e) => e.keyword === 'anyOf')
    .sort((a, b) => a.schemaPath.length - b.schemaPath.length);
  for (const union of unions) {
    if (!result.includes(union)) continue;
    // Items of one list share a schemaPath, so a branch error must also be under this value.
    const prefix = `${union.schemaPath}/`;
    const under = (e: ErrorObject) =>
      e.schemaPath.startsWith(prefix) &&
      (e.instancePath === union.instancePath || e.instancePath.startsWith(`${union.instancePath}/`));
    const branches = new Map<string, ErrorObject[]>();
    for (const error of result.filter(under)) {
      const branch = error.schemaPath.slice(prefix.length).split('/')[0] ?? '';
      branches.set(branch, [...(branches.get(branch) ?? []), error]);
    }
    const atRoot = (e: ErrorObject) => e.instancePath === union.instancePath;
    const fitting = [...branches.values()].filter(
      (errs) => !errs.some((e) => atRoot(e) && MISMATCH.has(e.keyword)),
    );
    const [only] = fitting;
    // A value the grammar (format) rejects is best explained by the grammar itself.
    const grammarSays =
      formatOf(union.parentSchema) && only?.every((e) => atRoot(e) && !STRUCTURE.has(e.keyword));
    const keep = fitting.length === 1 && only && !grammarSays ? only : [union];
    result = result.filter((e) => e !== union && !under(e)).concat(keep);
  }
  return result;
}

/** The format of a schema or of one of its direct union branches. */
function formatOf(schema: unknown): string | undefined {
  const s = asSchema(schema);
  if (typeof s.format === 'string') return s.format;
  const branches = Array.isArray(s.anyOf) ? s.anyOf : [];
  return branches.map((b) => asSchema(b).format).find((f): f is string => typeof f === 'string');
}

function unknownKey(error: ErrorObject, issues: Issues): void {
  const key = String(error.params.additionalProperty);
  const allowed = Object.keys(asSchema(asSchema(error.parentSchema).properties));
  const suggestion = didYouMean(key, allowed);
  const message = suggestion
    ? `unknown key "${key}" (did you mean "${suggestion}"?)`
    : `unknown key "${key}"; allowed keys: ${allowed.join(', ')}`;
  issues.add(`${error.instancePath}${ptr(key)}`, message, 'key');
}

function badKeyName(error: ErrorObject, issues: Issues): void {
  const key = String(error.params.propertyName);
  const pattern = String(asSchema(asSchema(error.parentSchema).propertyNames).pattern);
  const expected = PATTERN_EXPECTATIONS[pattern] ?? `a key matching ${pattern}`;
  issues.add(`${error.instancePath}${ptr(key)}`, `invalid key "${key}": expected ${expected}`, 'key');
}

function missingKey(error: ErrorObject, issues: Issues): void {
  const key = String(error.params.missingProperty);
  const pointer = `${error.instancePath}${ptr(key)}`;
  const emptied = issues.emptiedAt(pointer);
  if (emptied)
    issues.addPending({ pointer, message: 'is required, but its ${...} substitution is empty', at: emptied });
  else issues.add(error.instancePath, `missing required key "${key}"`, 'value');
}

function valueMessage(error: ErrorObject): string {
  const schema = asSchema(error.parentSchema);
  const got = `got ${describeValue(error.data)}`;
  switch (error.keyword) {
    case 'minimum':
    case 'exclusiveMinimum':
    case 'maximum':
      return `expected ${describeSchema(schema, true)}, ${got}`;
    case 'minItems':
      return `expected at least ${String(error.params.limit)} item, got an empty list`;
    case 'minProperties':
      return `expected at least ${String(error.params.limit)} entry, got none`;
    case 'maxItems':
      return `expected at most ${String(error.params.limit)} items`;
    default:
      return expectation(schema, error.data);
  }
}

/** "expected X, got Y", with the grammar's own wording for formats and a hint where one helps. */
function expectation(schema: Schema, value: unknown): string {
  const format = formatOf(schema);
  const parsed = format ? FORMATS[format]?.(value) : undefined;
  if (parsed && !parsed.ok) return parsed.message;
  let hint = '';
  if (schema.type === 'string' && (typeof value === 'number' || typeof value === 'boolean')) {
    hint = ` (quote it: "${String(value)}")`;
  } else if (value === null && schema.type === 'object') {
    hint = ' (give it entries, or remove the key)';
  } else if (Array.isArray(schema.enum) && typeof value === 'string') {
    const suggestion = didYouMean(value, schema.enum.map(String));
    if (suggestion) hint = ` (did you mean "${suggestion}"?)`;
  }
  return `expected ${describeSchema(schema, false)}, got ${describeValue(value)}${hint}`;
}

/** What a schema accepts, in words. `full` names both bounds (range errors, unions). */
function describeSchema(schema: Schema, full: boolean): string {
  if (Array.isArray(schema.anyOf))
    return schema.anyOf.map((s) => describeSchema(asSchema(s), true)).join(' or ');
  if ('const' in schema) return JSON.stringify(schema.const);
  if (Array.isArray(schema.enum)) return `one of ${schema.enum.join(', ')}`;
  const pattern = typeof schema.pattern === 'string' ? PATTERN_EXPECTATIONS[schema.pattern] : undefined;
  switch (schema.type) {
    case 'integer':
    case 'number':
      return `${schema.type === 'integer' ? 'an integer' : 'a number'}${bounds(schema, full)}`;
    case 'string':
      return pattern ?? 'a string';
    case 'boolean':
      return 'true or false';
    case 'array':
      return 'a list';
    case 'object':
      return 'a mapping';
    default:
      return 'a value';
  }
}

function bounds(schema: Schema, full: boolean): string {
  const { minimum: min, maximum: max, exclusiveMinimum: above } = schema;
  // A ratio in (0, 1]: "a number > 0 and <= 1".
  if (typeof above === 'number') return typeof max === 'number' ? ` > ${above} and <= ${max}` : ` > ${above}`;
  if (typeof min === 'number' && typeof max === 'number' && full) return ` from ${min} to ${max}`;
  if (typeof min === 'number') return ` >= ${min}`;
  return typeof max === 'number' ? ` <= ${max}` : '';
}

/** The closest candidate within edit distance 2 (case-insensitive) or sharing a prefix. */
export function didYouMean(input: string, candidates: readonly string[]): string | undefined {
  const lower = input.toLowerCase();
  let best: { candidate: string; score: number } | undefined;
  for (const candidate of candidates) {
    const other = candidate.toLowerCase();
    const distance = levenshtein(lower, other);
    const prefix =
      Math.min(lower.length, other.length) >= 3 && (other.startsWith(lower) || lower.startsWith(other));
    const score = distance <= 2 ? distance : prefix ? 3 : Infinity;
    if (score < (best?.score ?? Infinity)) best = { candidate, score };
  }
  return best?.candidate;
}

function levenshtein(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}
