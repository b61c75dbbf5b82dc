/**
 * @module policies/compression/media-types
 * Whether a response's Content-Type is worth compressing, against the route's `types` list
 * compiled once: exact types in a Set, `type/*` as a prefix, `type/*+suffix` as a prefix and a
 * structured-syntax suffix (`application/*+json` takes `application/problem+json`).
 * `text/event-stream` is never compressed, whatever the list says: a compressor holds bytes back
 * until it has enough to emit, which would stall a server-sent event stream.
 */

interface SuffixRange {
  readonly prefix: string;
  readonly suffix: string;
}

export class MediaTypes {
  private readonly exact: ReadonlySet<string>;
  private readonly prefixes: readonly string[];
  private readonly suffixed: readonly SuffixRange[];

  /** `types`: validated and lower-cased (config/normalize). */
  constructor(types: readonly string[]) {
    const exact = new Set<string>();
    const prefixes: string[] = [];
    const suffixed: SuffixRange[] = [];
    for (const type of types) {
      const slash = type.indexOf('/');
      const subtype = type.slice(slash + 1);
      if (subtype === '*') prefixes.push(type.slice(0, slash + 1));
      else if (subtype.startsWith('*+'))
        suffixed.push({ prefix: type.slice(0, slash + 1), suffix: subtype.slice(1) });
      else exact.add(type);
    }
    this.exact = exact;
    this.prefixes = prefixes;
    this.suffixed = suffixed;
  }

  /** `contentType` as the response sent it (`Text/HTML; charset=utf-8` is fine). */
  compressible(contentType: string): boolean {
    const semi = contentType.indexOf(';');
    const type = (semi === -1 ? contentType : contentType.slice(0, semi)).trim().toLowerCase();
    if (type === 'text/event-stream') return false;
    if (this.exact.has(type)) return true;
    for (const prefix of this.prefixes)
      if (type.startsWith(prefix) && type.length > prefix.length) return true;
    for (const { prefix, suffix } of this.suffixed)
      if (type.startsWith(prefix) && type.endsWith(suffix) && type.length > prefix.length + suffix.length)
        return true;
    return false;
  }
}
