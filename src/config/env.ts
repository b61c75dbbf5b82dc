/**
 * @module config/env
 * `${VAR}` and `${VAR:-default}` substitution in gateway.yaml. It runs on each parsed string
 * scalar, not on the raw text, so positions stay exact and a variable's value can never add YAML
 * structure. `$${` writes a literal `${`. Called by `load.ts` while it walks the document.
 */
import { isScalar, Schema } from 'yaml';

/** The result of expanding one string. */
export type Expansion =
  | { readonly ok: true; readonly value: string; readonly onlyReferences: boolean }
  | { readonly ok: false; readonly messages: readonly string[] };

/** What a scalar becomes after substitution. */
export type ScalarExpansion =
  /** `text` is set when `value` was re-read as YAML from the expanded text (e.g. 8080). */
  | { readonly kind: 'value'; readonly value: unknown; readonly text?: string }
  /** The scalar was only references and they were empty: the key counts as unset. */
  | { readonly kind: 'absent' }
  | { readonly kind: 'error'; readonly messages: readonly string[] };

// `$${` (escape) or `${...}`; a missing `}` is captured as an empty group 2 and reported.
const TOKEN = /\$\$\{|\$\{([^}]*)(\}?)/g;
const REFERENCE = /^([A-Za-z_][A-Za-z0-9_]*)(?::-([\s\S]*))?$/;

/**
 * `{`, `}`, `,` and `: ` end a plain scalar inside a flow collection, so `{ a: ${X:-10} }` would
 * not even parse. Before parsing, those characters (and `[`, `]`, `#`) inside each one-line
 * `${...}` are swapped for private-use characters, one for one, so positions stay exact and quoted
 * scalars read as before; `unmaskReferences` gives each scalar its text back. A file that already
 * holds such characters is left alone.
 */
const MASKABLE = '{}[],:#';
const MASK_BASE = 0xe000;
const MASKED = /[\ue000-\ue006]/;
const MASKED_ALL = /[\ue000-\ue006]/g;
const ONE_LINE_REFERENCE = /\$\{[^}\n]*\}/g;

export function maskReferences(text: string): string {
  if (!text.includes('${') || MASKED.test(text)) return text;
  const mask = (c: string): string => {
    const index = MASKABLE.indexOf(c);
    return index === -1 ? c : String.fromCharCode(MASK_BASE + index);
  };
  return text.replace(ONE_LINE_REFERENCE, (reference) => [...reference].map(mask).join(''));
}

/** The text `maskReferences` hid, back in a scalar, a key or a message. */
export function unmaskReferences(text: string): string {
  if (!MASKED.test(text)) return text;
  return text.replace(MASKED_ALL, (c) => MASKABLE.charAt(c.charCodeAt(0) - MASK_BASE));
}

/** Replaces every reference in `text`; `onlyReferences` says no literal text surrounded them. */
export function expandEnv(text: string, env: NodeJS.ProcessEnv): Expansion {
  const messages: string[] = [];
  let references = 0;
  let literalChars = 0;
  let last = 0;
  const value = text.replace(TOKEN, (match: string, body: string | undefined, close: string, at: number) => {
    literalChars += at - last;
    last = at + match.length;
    if (body === undefined) {
      literalChars += 2;
      return '${';
    }
    references += 1;
    const resolved = close
      ? resolveReference(body, env)
      : { message: 'unterminated "${" (write "$${" for a literal "${")' };
    if ('message' in resolved) messages.push(resolved.message);
    return 'value' in resolved ? resolved.value : '';
  });
  literalChars += text.length - last;
  if (messages.length > 0) return { ok: false, messages };
  return { ok: true, value, onlyReferences: references > 0 && literalChars === 0 };
}

function resolveReference(body: string, env: NodeJS.ProcessEnv): { value: string } | { message: string } {
  const match = REFERENCE.exec(body);
  if (!match) {
    return { message: `invalid reference "\${${body}}"; expected \${NAME} or \${NAME:-default}` };
  }
  const [, name = '', fallback] = match;
  if (fallback?.includes('${')) return { message: `nested references are not supported in "\${${body}}"` };
  const value = env[name];
  // Like the shell's `:-`, an empty variable takes the default too.
  if (fallback !== undefined) return { value: value ? value : fallback };
  if (value === undefined) {
    return {
      message: `environment variable ${name} is not set (use \${${name}:-default} to give a default)`,
    };
  }
  return { value };
}

/**
 * Substitutes one string scalar. A plain scalar that was nothing but references is resolved
 * again as a YAML core-schema scalar, so `port: ${PORT:-8080}` is the number 8080; quoted and
 * block scalars stay strings. An empty result of references alone means "unset".
 */
export function expandScalar(text: string, plain: boolean, env: NodeJS.ProcessEnv): ScalarExpansion {
  if (!text.includes('${')) return { kind: 'value', value: text };
  const expansion = expandEnv(text, env);
  if (!expansion.ok) return { kind: 'error', messages: expansion.messages };
  if (expansion.onlyReferences && expansion.value === '') return { kind: 'absent' };
  if (plain && expansion.onlyReferences) {
    return { kind: 'value', value: resolveCoreScalar(expansion.value), text: expansion.value };
  }
  return { kind: 'value', value: expansion.value };
}

const CORE_SCALAR_TAGS = new Schema({ schema: 'core' }).tags.flatMap((tag) =>
  'test' in tag && tag.test && 'resolve' in tag ? [tag] : [],
);

/** The value a plain scalar with this text would have had in the file (null, bool, int, float, string). */
export function resolveCoreScalar(text: string): unknown {
  const tag = CORE_SCALAR_TAGS.find((candidate) => candidate.test?.test(text));
  if (!tag) return text;
  const resolved: unknown = tag.resolve(text, () => undefined, {});
  return isScalar(resolved) ? resolved.value : resolved;
}
