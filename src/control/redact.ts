/**
 * @module control/redact
 * The running config as `GET /admin/config` shows it: a copy with secrets replaced by
 * "[redacted]": the admin token, passwords in URLs (redis.url, targets), and values under keys
 * that name a secret (token, password, secret, credentials-bearing headers such as
 * Authorization, Cookie or X-Api-Key set by a headers policy). Consumer keys are sha256 hashes
 * already and stay. The config's own `source` path stays, so an operator sees which file runs.
 */

export const REDACTED = '[redacted]';

/** Key names (lower-cased) whose values are secrets wherever they appear. */
const SECRET_KEYS = new Set([
  'token',
  'password',
  'secret',
  'authorization',
  'proxy-authorization',
  'cookie',
  'set-cookie',
  'x-api-key',
]);

/** scheme://user:password@host → scheme://user:[redacted]@host */
const URL_PASSWORD = /^([a-z][a-z0-9+.-]*:\/\/[^:/@\s]*):[^@/\s]*@/i;

export function redactConfig(value: unknown): unknown {
  return redactValue(value, undefined);
}

function redactValue(value: unknown, key: string | undefined): unknown {
  if (key !== undefined && SECRET_KEYS.has(key.toLowerCase()) && isPlainSecret(value)) return REDACTED;
  if (typeof value === 'string') return value.replace(URL_PASSWORD, `$1:${REDACTED}@`);
  if (Array.isArray(value)) return value.map((item) => redactValue(item, undefined));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [name, child] of Object.entries(value)) out[name] = redactValue(child, name);
    return out;
  }
  return value;
}

/** A set secret (a string or number); an unset token stays visible as unset. */
function isPlainSecret(value: unknown): boolean {
  return (typeof value === 'string' && value !== '') || typeof value === 'number';
}
