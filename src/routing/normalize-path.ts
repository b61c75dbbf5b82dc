/**
 * @module routing/normalize-path
 * Turns Node's `req.url` into the canonical path that the router matches and the upstream
 * receives, plus the untouched query string. It runs first in the pipeline, right after the
 * request id and before route match: if matching and forwarding saw different paths, a request
 * could match `/public` here and reach `/admin` upstream (`/public/%2e%2e/admin`), so both use
 * only this output (Envoy's normalize_path + merge_slashes, RFC 3986 §6.2.2). `%2F` and `%5C`
 * are never decoded (that would split a segment in two); an upstream that decodes them itself
 * should run with `server.escapedSlashes: reject`.
 *
 * The common case is a path that is already canonical; one scan proves it and the input is
 * returned as is. Only paths with `%`, `//`, dot segments or unusual bytes take the slow path.
 */

/** A request target split into its canonical path and its raw query. */
export interface NormalizedTarget {
  /** Starts with `/`; dot segments resolved, slashes merged, escapes canonical. */
  readonly path: string;
  /** `''` or the query exactly as received, leading `?` included. */
  readonly query: string;
}

/** Why a request target was refused; the caller answers 400 BAD_REQUEST with this message. */
export interface TargetError {
  readonly error: string;
}

/** What to do with `%2F` / `%5C` inside a segment (`server.escapedSlashes`). */
export type EscapedSlashes = 'keep' | 'reject';

const SLASH = 0x2f;
const DOT = 0x2e;
const QUESTION = 0x3f;
const PERCENT = 0x25;
const BACKSLASH = 0x5c;
const HASH = 0x23;

const fail = (error: string): TargetError => Object.freeze({ error });
const ERR_FORM = fail('request target must be an absolute path');
const ERR_ESCAPE = fail('invalid percent-encoding in path');
const ERR_NUL = fail('encoded NUL in path');
const ERR_ESCAPED_SLASH = fail('encoded slash or backslash in path');
const ERR_CONTROL = fail('control character in path');
const ERR_BACKSLASH = fail('backslash in path');
const ERR_FRAGMENT = fail('fragment in request target');
const ERR_CHAR = fail('invalid character in path');

/** 1 for bytes that may stand in a canonical segment as they are (everything printable but `%\#?/`). */
const PLAIN = new Uint8Array(256);
/** 1 for RFC 3986 unreserved bytes, which are decoded when escaped. */
const UNRESERVED = new Uint8Array(256);
/** Hex digit value, or -1. */
const HEX_VALUE = new Int8Array(256).fill(-1);
/** Canonical upper-case escape for each byte (`%2F`). */
const ESCAPE: string[] = [];

for (let c = 0; c < 256; c++) {
  ESCAPE.push('%' + c.toString(16).toUpperCase().padStart(2, '0'));
  const ch = String.fromCharCode(c);
  if (/[A-Za-z0-9\-._~]/.test(ch)) UNRESERVED[c] = 1;
  if (c > 0x20 && c < 0x7f && !'%\\#?/'.includes(ch)) PLAIN[c] = 1;
  if (/[0-9A-Fa-f]/.test(ch)) HEX_VALUE[c] = parseInt(ch, 16);
}

/**
 * Splits and canonicalises a request target (`req.url`).
 *
 * Accepts origin-form (`/a/b?x=1`) and absolute-form (`http://host/a?x`, reduced to its path);
 * asterisk-form, authority-form and anything else not starting with `/` is an error. Unreserved
 * escapes are decoded (`%2e` → `.`) before dot segments are removed, never above the root;
 * other escapes are upper-cased; `%2F`/`%5C` stay opaque (or are refused with `reject`);
 * duplicate slashes are merged; a trailing slash is kept; the query is passed through untouched.
 * Refused: `%00`, malformed escapes, control characters, raw `\` and a `#` fragment in the path.
 * Raw bytes 0x80-0xFF (Node reads the request line as latin1) are percent-encoded.
 *
 * @returns `{ path, query }`, or `{ error }` when the target must be answered with 400.
 */
export function normalizeTarget(
  rawUrl: string,
  escapedSlashes: EscapedSlashes,
): NormalizedTarget | TargetError {
  let start = 0;
  if (rawUrl.charCodeAt(0) !== SLASH) {
    start = absoluteFormPathStart(rawUrl);
    if (start === -1) return ERR_FORM;
    // RFC 9112 §3.2.2: an absolute-form target with an empty path means `/`.
    if (start === rawUrl.length || rawUrl.charCodeAt(start) !== SLASH) {
      return normalizeSlow('/' + rawUrl.slice(start), 0, escapedSlashes);
    }
  }
  const pathEnd = scanCanonical(rawUrl, start);
  if (pathEnd === -1) return normalizeSlow(rawUrl, start, escapedSlashes);
  if (pathEnd === rawUrl.length) return { path: start === 0 ? rawUrl : rawUrl.slice(start), query: '' };
  return { path: rawUrl.slice(start, pathEnd), query: rawUrl.slice(pathEnd) };
}

/**
 * The authority of an absolute-form target (`http://b.example:80/x` → `b.example:80`, userinfo
 * dropped), or undefined when the target is not absolute-form http(s) with an authority.
 */
export function absoluteFormAuthority(raw: string): string | undefined {
  const pathStart = absoluteFormPathStart(raw);
  if (pathStart === -1) return undefined;
  const authority = raw.slice(raw.indexOf('://') + 3, pathStart);
  return authority.slice(authority.lastIndexOf('@') + 1) || undefined;
}

/**
 * Index where the path of an `http(s)://authority/...` target starts (it may be `?` or the end),
 * or -1 when the target is not absolute-form with a non-empty authority.
 */
function absoluteFormPathStart(raw: string): number {
  const sep = raw.indexOf('://');
  if (sep === -1) return -1;
  const scheme = raw.slice(0, sep).toLowerCase();
  if (scheme !== 'http' && scheme !== 'https') return -1;
  const authorityStart = sep + 3;
  let i = authorityStart;
  while (i < raw.length) {
    const c = raw.charCodeAt(i);
    if (c === SLASH || c === QUESTION || c === HASH) break;
    i++;
  }
  return i === authorityStart ? -1 : i;
}

/**
 * Fast path: proves that the path starting at `start` (which is `/`) is already canonical.
 * @returns the index of the `?` or the end of the string when it is, -1 when it needs the slow path.
 */
function scanCanonical(raw: string, start: number): number {
  const len = raw.length;
  for (let i = start; i < len; i++) {
    const c = raw.charCodeAt(i);
    if (c <= 0xff && PLAIN[c] === 1) continue;
    if (c === SLASH) {
      const next = i + 1 < len ? raw.charCodeAt(i + 1) : QUESTION;
      if (next === SLASH || (next === DOT && isDotSegment(raw, i + 1, len))) return -1;
    } else if (c === QUESTION) {
      return i;
    } else {
      return -1;
    }
  }
  return len;
}

/** Whether a segment starting at `i` (a `.`) is `.` or `..` (ends at `/`, `?` or the end). */
function isDotSegment(raw: string, i: number, len: number): boolean {
  return segmentEndsAt(raw, i + 1, len) || (raw.charCodeAt(i + 1) === DOT && segmentEndsAt(raw, i + 2, len));
}

function segmentEndsAt(raw: string, j: number, len: number): boolean {
  if (j >= len) return true;
  const c = raw.charCodeAt(j);
  return c === SLASH || c === QUESTION;
}

/** Slow path: decodes segment by segment and removes dot segments with a stack (RFC 3986 §5.2.4). */
function normalizeSlow(raw: string, start: number, mode: EscapedSlashes): NormalizedTarget | TargetError {
  if (raw.charCodeAt(start) !== SLASH) return ERR_FORM;
  const q = raw.indexOf('?', start);
  const end = q === -1 ? raw.length : q;
  const segments: string[] = [];
  // A path ending in `/`, `/.` or `/..` names a directory; the result keeps its trailing slash.
  let trailingSlash = false;
  for (let segStart = start + 1; ;) {
    let segEnd = raw.indexOf('/', segStart);
    if (segEnd === -1 || segEnd > end) segEnd = end;
    const segment = decodeSegment(raw, segStart, segEnd, mode);
    if (typeof segment !== 'string') return segment;
    const isLast = segEnd === end;
    if (segment === '..') segments.pop();
    if (segment === '..' || segment === '.' || segment === '') trailingSlash = isLast;
    else segments.push(segment);
    if (isLast) break;
    segStart = segEnd + 1;
  }
  const path = segments.length === 0 ? '/' : '/' + segments.join('/') + (trailingSlash ? '/' : '');
  return { path, query: q === -1 ? '' : raw.slice(q) };
}

/** Canonical form of one segment `[s, e)`, or the reason it is refused. */
function decodeSegment(raw: string, s: number, e: number, mode: EscapedSlashes): string | TargetError {
  let out = '';
  let runStart = s;
  for (let i = s; i < e; i++) {
    const c = raw.charCodeAt(i);
    if (c <= 0xff && PLAIN[c] === 1) continue;
    out += raw.slice(runStart, i);
    if (c === PERCENT) {
      const decoded = decodeEscape(raw, i, e, mode);
      if (typeof decoded !== 'string') return decoded;
      out += decoded;
      i += 2;
    } else if (c >= 0x80 && c <= 0xff) {
      out += ESCAPE[c];
    } else {
      return rawCharError(c);
    }
    runStart = i + 1;
  }
  return runStart === s ? raw.slice(s, e) : out + raw.slice(runStart, e);
}

/** The escape at `i` (a `%`) in canonical form: unreserved bytes decoded, hex upper-cased. */
function decodeEscape(raw: string, i: number, e: number, mode: EscapedSlashes): string | TargetError {
  if (i + 2 >= e) return ERR_ESCAPE;
  const hi = hexValue(raw.charCodeAt(i + 1));
  const lo = hexValue(raw.charCodeAt(i + 2));
  if (hi === -1 || lo === -1) return ERR_ESCAPE;
  const byte = hi * 16 + lo;
  if (byte === 0) return ERR_NUL;
  if (UNRESERVED[byte] === 1) return String.fromCharCode(byte);
  // Decoding these would let a segment turn into two (`..%2F..`), so they stay opaque.
  if ((byte === SLASH || byte === BACKSLASH) && mode === 'reject') return ERR_ESCAPED_SLASH;
  return ESCAPE[byte] as string;
}

function hexValue(c: number): number {
  return c > 0xff ? -1 : (HEX_VALUE[c] as number);
}

function rawCharError(c: number): TargetError {
  if (c === BACKSLASH) return ERR_BACKSLASH;
  if (c === HASH) return ERR_FRAGMENT;
  if (c <= 0x20 || c === 0x7f) return ERR_CONTROL;
  return ERR_CHAR;
}
