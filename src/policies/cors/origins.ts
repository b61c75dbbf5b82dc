/**
 * @module policies/cors/origins
 * The CORS origin allowlist, compiled once per route: exact origins in a Set, wildcard ones
 * (`https://*.example.com`, `https://*.example.com:8443`) as a scheme prefix and a `.domain`
 * suffix with at least one DNS label between them, never the bare domain (the way `match.host`
 * reads `*.example.com`). Browsers serialise origins in lower case, which the config is too.
 */

/** Anything but letters, digits, `-` and `.` in the part a wildcard stands for. */
const NOT_LABEL_CHARS = /[^a-z0-9.-]/;

interface Wildcard {
  /** `https://` */
  readonly scheme: string;
  /** `.example.com` or `.example.com:8443` */
  readonly suffix: string;
}

export class OriginMatcher {
  /** `*` was listed: every origin is allowed. */
  readonly any: boolean;
  private readonly exact: ReadonlySet<string>;
  private readonly wildcards: readonly Wildcard[];

  /** `origins`: validated and lower-cased (config/normalize). */
  constructor(origins: readonly string[]) {
    this.any = origins.includes('*');
    const exact = new Set<string>();
    const wildcards: Wildcard[] = [];
    for (const origin of origins) {
      const star = origin.indexOf('://*.');
      if (star === -1) exact.add(origin);
      else wildcards.push({ scheme: origin.slice(0, star + 3), suffix: origin.slice(star + 4) });
    }
    this.exact = exact;
    this.wildcards = wildcards;
  }

  matches(origin: string): boolean {
    if (this.any || this.exact.has(origin)) return true;
    for (const { scheme, suffix } of this.wildcards) {
      if (origin.length <= scheme.length + suffix.length) continue;
      if (!origin.startsWith(scheme) || !origin.endsWith(suffix)) continue;
      const labels = origin.slice(scheme.length, origin.length - suffix.length);
      // `https://a.example.com.evil.test` cannot end in `.example.com`; this keeps `:` and `/` out.
      if (NOT_LABEL_CHARS.test(labels) || labels.includes('..')) continue;
      if (labels.charCodeAt(0) !== 0x2e && labels.charCodeAt(labels.length - 1) !== 0x2e) return true;
    }
    return false;
  }
}
