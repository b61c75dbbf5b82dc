/**
 * @module config/units
 * Parsers for the small value grammars of gateway.yaml: durations (`250ms`, `1.5s`), binary sizes
 * (`10mb`), status ranges (`"200-399"`), listen addresses (`127.0.0.1:9090`), CIDRs and target
 * URLs. Each returns either the parsed value or a one-line message that says what was expected,
 * so the schema's formats and `validate.ts` share one wording. Used only while loading config.
 */
import { BlockList, isIP } from 'node:net';
import type { ListenAddress, StatusRange } from './types';

/** A parse outcome: the value, or a message ready for `file:line:col: path: <message>`. */
export type Parsed<T> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly message: string };

const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const fail = <T>(message: string): Parsed<T> => ({ ok: false, message });

/** Returns the value of a parse that validation already accepted; throws on a programming error. */
export function unwrap<T>(parsed: Parsed<T>): T {
  if (!parsed.ok) throw new Error(`config value accepted by validation but unparseable: ${parsed.message}`);
  return parsed.value;
}

/** How a YAML value reads in a message: strings quoted, collections by kind. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') {
    return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  }
  if (value === null || value === undefined) return 'an empty value';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return String(value);
}

/** JSON Schema pattern for editors; `parseDuration` is the authority and gives the messages. */
export const DURATION_PATTERN = '^(0|[0-9]+(\\.[0-9]+)?(ms|s|m|h))$';
const DURATION_RE = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/;
const MS_PER_UNIT: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
/** Node timers overflow above 2^31-1 ms and then fire at once, so longer durations are refused. */
export const MAX_DURATION_MS = 2 ** 31 - 1;
const DURATION_EXPECTED = 'expected a duration such as 250ms, 5s or 1m';

/** `250ms`, `5s`, `1.5s`, `1m`, `1h` or a bare `0` → milliseconds. */
export function parseDuration(input: unknown): Parsed<number> {
  if (input === 0 || input === '0') return ok(0);
  if (typeof input === 'number') {
    return fail(`${DURATION_EXPECTED}, got ${input} (add a unit: ${input}s or ${input}ms)`);
  }
  if (typeof input !== 'string') return fail(`${DURATION_EXPECTED}, got ${describeValue(input)}`);
  const text = input.trim();
  const match = DURATION_RE.exec(text);
  if (!match) {
    const hint = /^\d+(\.\d+)?$/.test(text) ? `add a unit: ${text}s or ${text}ms` : 'units: ms, s, m, h';
    return fail(`${DURATION_EXPECTED}, got ${describeValue(input)} (${hint})`);
  }
  const ms = Number(match[1]) * (MS_PER_UNIT[match[2] ?? ''] ?? NaN);
  if (!Number.isInteger(ms))
    return fail(`expected a whole number of milliseconds, got ${describeValue(input)}`);
  if (ms > MAX_DURATION_MS) return fail(`expected a duration of at most 596h, got ${describeValue(input)}`);
  return ok(ms);
}

/** Like `parseDuration`, for durations where 0 would mean nothing sensible (intervals, windows). */
export function parsePositiveDuration(input: unknown): Parsed<number> {
  const parsed = parseDuration(input);
  if (parsed.ok && parsed.value === 0) return fail(`expected a duration greater than 0 such as 5s, got 0`);
  return parsed;
}

/** JSON Schema pattern for editors; `parseSize` is the authority. */
export const SIZE_PATTERN = '^[0-9]+(\\.[0-9]+)?([bB]|[kKmMgG][iI]?[bB])?$';
const SIZE_RE = /^(\d+(?:\.\d+)?)(b|[kmg]i?b)?$/i;
const BYTES_PER_UNIT: Readonly<Record<string, number>> = { b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };
const SIZE_EXPECTED = 'expected a size such as 512kb or 10mb';

/** Binary sizes: `512b`, `1kb` (= 1024), `10mb`, `1gb`, or a bare integer of bytes. */
export function parseSize(input: unknown): Parsed<number> {
  if (typeof input === 'number') {
    if (Number.isSafeInteger(input) && input >= 0) return ok(input);
    return fail(`${SIZE_EXPECTED} or a whole number of bytes, got ${input}`);
  }
  const match = typeof input === 'string' ? SIZE_RE.exec(input.trim()) : null;
  if (!match) {
    return fail(`${SIZE_EXPECTED}, got ${describeValue(input)} (units: b, kb, mb, gb; 1kb = 1024 bytes)`);
  }
  const unit = (match[2] ?? 'b').charAt(0).toLowerCase();
  const bytes = Math.floor(Number(match[1]) * (BYTES_PER_UNIT[unit] ?? NaN));
  if (!Number.isSafeInteger(bytes)) return fail(`${SIZE_EXPECTED}, got ${describeValue(input)} (too large)`);
  return ok(bytes);
}

/** JSON Schema pattern for a single status or an inclusive range. */
export const STATUS_RANGE_PATTERN = '^[1-5][0-9][0-9](-[1-5][0-9][0-9])?$';
const STATUS_EXPECTED = 'expected a status such as 503, a range such as "200-399", or a list of them';

/** `503`, `"503"`, `"200-399"` or a list of those → inclusive ranges. */
export function parseStatusRanges(input: unknown): Parsed<StatusRange[]> {
  const items = Array.isArray(input) ? input : [input];
  if (items.length === 0) return fail(`${STATUS_EXPECTED}, got an empty list`);
  const ranges: StatusRange[] = [];
  for (const item of items) {
    const text = typeof item === 'number' ? String(item) : item;
    const match = typeof text === 'string' ? /^(\d{3})(?:-(\d{3}))?$/.exec(text.trim()) : null;
    const from = Number(match?.[1]);
    const to = Number(match?.[2] ?? match?.[1]);
    if (!match || from < 100 || to > 599 || from > to)
      return fail(`${STATUS_EXPECTED}, got ${describeValue(item)}`);
    ranges.push({ from, to });
  }
  return ok(ranges);
}

const HOSTNAME_RE = /^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/;
const LISTEN_EXPECTED = 'expected host:port, [ipv6]:port, :port or a port number';

/** `host:port`, `[::1]:port`, `:port` or a bare port (all interfaces) → host and port. */
export function parseListen(input: unknown): Parsed<ListenAddress> {
  const raw = typeof input === 'number' || typeof input === 'string' ? String(input).trim() : '';
  // A bare port (8080 or "8080") listens on every interface, like ":8080".
  const text = /^\d+$/.test(raw) ? `:${raw}` : raw;
  const match = /^(?:\[([^\]]*)\]|([^:[\]]*)):(\d{1,5})$/.exec(text);
  if (!match) {
    const v6 = text.split(':').length > 2 ? ' (write IPv6 addresses in brackets: [::1]:8080)' : '';
    return fail(`${LISTEN_EXPECTED}, got ${describeValue(input)}${v6}`);
  }
  const [, v6Host, name, portText] = match;
  const host = v6Host ?? (name || '0.0.0.0');
  const port = Number(portText);
  if (port > 65535) return fail(`expected a port from 0 to 65535, got ${port}`);
  const validHost = v6Host !== undefined ? isIP(host) === 6 : isIP(host) === 4 || HOSTNAME_RE.test(host);
  if (!validHost) return fail(`${LISTEN_EXPECTED}, got ${describeValue(input)} (invalid host "${host}")`);
  return ok({ host, port });
}

/** Whether a listen host only accepts connections from this machine. */
export function isLoopback(host: string): boolean {
  const lower = host.toLowerCase();
  if (lower === 'localhost' || lower === '::1') return true;
  const v4 = lower.startsWith('::ffff:') ? lower.slice(7) : lower;
  return isIP(v4) === 4 && v4.startsWith('127.');
}

/** An IP or CIDR as node:net's BlockList takes it → CIDR (`10.0.0.5` → `10.0.0.5/32`). */
export function parseCidr(input: unknown): Parsed<string> {
  const expected = 'expected an IP address or CIDR such as 10.0.0.0/8 or fd00::/8';
  if (typeof input !== 'string') return fail(`${expected}, got ${describeValue(input)}`);
  const [address = '', prefixText, ...rest] = input.trim().split('/');
  const family = isIP(address);
  const max = family === 6 ? 128 : 32;
  const prefix = prefixText === undefined ? max : /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : NaN;
  if (family === 0 || rest.length > 0 || !(prefix >= 0 && prefix <= max)) {
    return fail(`${expected}, got ${describeValue(input)}`);
  }
  try {
    // The proxy builds a BlockList from these; refusing here what it would refuse there.
    new BlockList().addSubnet(address, prefix, family === 6 ? 'ipv6' : 'ipv4');
  } catch {
    return fail(`${expected}, got ${describeValue(input)}`);
  }
  return ok(`${address}/${prefix}`);
}

/** An upstream target: http(s), a host, an optional port, nothing else. */
export function parseTargetUrl(input: unknown): Parsed<{ url: string; origin: string }> {
  const expected = 'expected an http:// or https:// URL such as http://10.0.0.5:3000';
  if (typeof input !== 'string') return fail(`${expected}, got ${describeValue(input)}`);
  let url: URL;
  try {
    url = new URL(input.trim());
  } catch {
    return fail(`${expected}, got ${describeValue(input)}`);
  }
  const got = `got ${describeValue(input)}`;
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return fail(`${expected}, ${got}`);
  if (!url.hostname) return fail(`${expected}, ${got} (no host)`);
  if (url.username || url.password)
    return fail(`${expected}, ${got} (credentials do not belong in a target)`);
  if (url.pathname !== '/' || /[?#]/.test(input)) {
    return fail(`${expected}, ${got} (a target has no path or query; use the route's rewrite.addPrefix)`);
  }
  return ok({ url: input.trim(), origin: url.origin });
}

/** A route's host: an exact name or a `*.example.com` wildcard, lower-cased, without a port. */
export function parseHostPattern(input: unknown): Parsed<string> {
  const expected = 'expected a host name such as api.example.com or *.example.com';
  if (typeof input !== 'string') return fail(`${expected}, got ${describeValue(input)}`);
  const host = input.trim().toLowerCase();
  if (/:\d+$/.test(host))
    return fail(`${expected}, got ${describeValue(input)} (hosts match without the port)`);
  const name = host.startsWith('*.') ? host.slice(2) : host;
  if (!HOSTNAME_RE.test(name)) return fail(`${expected}, got ${describeValue(input)}`);
  return ok(host);
}
