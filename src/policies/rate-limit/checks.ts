/**
 * @module policies/rate-limit/checks
 * The rate-limit rules a schema cannot express: a limit needs `limit` and `window`, except
 * `key: consumer`, whose tier sets both (and which then needs `consumers` and `tiers`, and may
 * not set them itself); such a limit may carry a tier table of its own (`tiers:`), which must
 * name every top-level tier and no other (only consumer limits may); every tier named by
 * `consumers` must exist; windows are whole seconds
 * of at least 1s (Redis expires counters in whole seconds, and the headers report seconds);
 * slowDown cannot count by consumer. A route's rule has a `key` or names a `sharedLimits` entry
 * (`shared:`), which must exist, supplies key/limit/window/burst (the rule may not set them),
 * and is named at most once per route (a request would otherwise count twice into it). Runs on
 * possibly invalid data, so every read is guarded.
 */
import { didYouMean, ptr } from '../../config/schema-errors';
import { parseDuration } from '../../config/units';
import type { Issues } from '../../config/validate';
import { rec, type Rec } from '../../config/raw-data';

/** Records every cross-field rate-limit problem of the whole document. */
export function checkRateLimits(root: Rec | undefined, issues: Issues): void {
  const tiers = rec(root?.tiers);
  const consumers = rec(root?.consumers);
  const hasConsumers = Boolean(consumers && tiers);
  const tierNames = Object.keys(tiers ?? {});
  const sharedLimits = rec(root?.sharedLimits);
  for (const [name, limit] of Object.entries(sharedLimits ?? {}))
    checkRule(rec(limit), ptr('sharedLimits', name), hasConsumers, tierNames, issues);
  const routes = Array.isArray(root?.routes) ? (root.routes as unknown[]) : [];
  routes.forEach((route, i) => {
    const raw = rec(route)?.rateLimit;
    const rules = Array.isArray(raw) ? raw : raw === undefined ? [] : [raw];
    // Shared limit name → the pointer of this route's first rule naming it.
    const named = new Map<string, string>();
    rules.forEach((rule, j) => {
      const at = Array.isArray(raw) ? ptr('routes', i, 'rateLimit', j) : ptr('routes', i, 'rateLimit');
      const r = rec(rule);
      if (r?.shared !== undefined) checkReference(r, at, sharedLimits, named, issues);
      else if (r && r.key === undefined)
        issues.add(at, 'expected a `key` (ip, route, header:<name> or consumer) or `shared: <name>`');
      else checkRule(r, at, hasConsumers, tierNames, issues);
    });
    checkSlowDown(rec(rec(route)?.slowDown), ptr('routes', i, 'slowDown'), issues);
  });
  checkSlowDown(rec(rec(root?.server)?.slowDown), ptr('server', 'slowDown'), issues);
  for (const [name, tier] of Object.entries(tiers ?? {})) {
    const t = rec(tier);
    if (!t) continue;
    if (t.window === undefined) issues.add(ptr('tiers', name), 'expected a `window` such as 1m');
    else checkWindow(t.window, ptr('tiers', name, 'window'), issues);
  }
  if (consumers) checkConsumerTiers(consumers, tierNames, issues);
}

function checkRule(
  r: Rec | undefined,
  at: string,
  hasConsumers: boolean,
  tierNames: readonly string[],
  issues: Issues,
): void {
  if (!r) return;
  if (r.key === 'consumer') {
    if (!hasConsumers)
      issues.add(`${at}/key`, 'key: consumer needs a top-level `consumers` block and `tiers`');
    for (const field of ['limit', 'window', 'burst'])
      if (r[field] !== undefined)
        issues.add(
          `${at}/${field}`,
          `key: consumer takes ${field} from the consumer's tier; set it under tiers (the top-level table, or this limit's own \`tiers:\`)`,
          'key',
        );
    if (r.tiers !== undefined && hasConsumers) checkRuleTiers(rec(r.tiers), `${at}/tiers`, tierNames, issues);
    return;
  }
  if (r.tiers !== undefined)
    issues.add(
      `${at}/tiers`,
      `only a key: consumer limit takes a tier table; this one counts by ${typeof r.key === 'string' ? r.key : 'its key'} (set limit and window instead)`,
      'key',
    );
  if (r.limit === undefined) issues.add(at, 'expected a `limit` (requests per window)');
  if (r.window === undefined) issues.add(at, 'expected a `window` such as 1m');
  else checkWindow(r.window, `${at}/window`, issues);
}

/** A rule naming a shared limit: the limit must exist, and the rule may only pick methods, mode, headers. */
function checkReference(
  r: Rec,
  at: string,
  sharedLimits: Rec | undefined,
  named: Map<string, string>,
  issues: Issues,
): void {
  const name = r.shared;
  if (typeof name !== 'string') return; // the schema pass reports it
  for (const field of ['key', 'limit', 'window', 'burst', 'tiers'])
    if (r[field] !== undefined)
      issues.add(
        `${at}/${field}`,
        `a rule with shared: ${name} takes ${field} from sharedLimits.${name}; set it there (a route may set only methods, mode and headers)`,
        'key',
      );
  const names = Object.keys(sharedLimits ?? {});
  if (!names.includes(name)) {
    const hint = didYouMean(name, names);
    issues.add(
      `${at}/shared`,
      `unknown shared limit "${name}"${hint ? `; did you mean "${hint}"?` : ''} (sharedLimits: ${names.join(', ') || 'none'})`,
    );
    return;
  }
  const first = named.get(name);
  if (first === undefined) {
    named.set(name, at);
    return;
  }
  const line = issues.lineOf(`${first}/shared`);
  const index = first.slice(first.lastIndexOf('/') + 1);
  issues.add(
    `${at}/shared`,
    `shared limit "${name}" is already named by rateLimit[${index}]${line > 0 ? ` on line ${line}` : ''}; a request would count twice into it (list all the methods on one rule)`,
  );
}

/**
 * A limit's own tier table: every name must be a top-level tier (did-you-mean), and every
 * top-level tier must be there: a consumer whose tier the table left out would otherwise be
 * counted by nothing here, or by a limit nobody wrote for this rule.
 */
function checkRuleTiers(
  table: Rec | undefined,
  at: string,
  tierNames: readonly string[],
  issues: Issues,
): void {
  if (!table) return; // the schema pass reports it
  const listed = Object.keys(table);
  for (const name of listed) {
    if (!tierNames.includes(name)) {
      const hint = didYouMean(name, tierNames);
      issues.add(
        `${at}/${name}`,
        `unknown tier "${name}"${hint ? `; did you mean "${hint}"?` : ''} (tiers: ${tierNames.join(', ') || 'none'})`,
        'key',
      );
    }
    const window = rec(table[name])?.window;
    if (window !== undefined) checkWindow(window, `${at}/${name}/window`, issues);
  }
  const missing = tierNames.filter((name) => !listed.includes(name));
  if (missing.length > 0)
    issues.add(
      at,
      `this tier table leaves out ${missing.map((m) => `"${m}"`).join(', ')}; list every tier (${tierNames.join(', ')}), so no consumer goes without this limit`,
      'key',
    );
}

function checkSlowDown(slow: Rec | undefined, at: string, issues: Issues): void {
  if (!slow) return;
  if (slow.key === 'consumer')
    issues.add(
      `${at}/key`,
      'slowDown counts by ip, route or header:<name>, not consumer (use the API key header)',
    );
  if (slow.window !== undefined) checkWindow(slow.window, `${at}/window`, issues);
}

/** Counters expire in whole seconds (Redis EX), so 1.5s or 500ms would silently mean something else. */
function checkWindow(value: unknown, at: string, issues: Issues): void {
  const parsed = parseDuration(value);
  if (!parsed.ok) return; // the schema pass reports it
  if (parsed.value < 1000 || parsed.value % 1000 !== 0)
    issues.add(at, `expected a whole number of seconds, at least 1s, got ${String(value)}`);
}

function checkConsumerTiers(consumers: Rec, tierNames: readonly string[], issues: Issues): void {
  const known = (tier: unknown, pointer: string) => {
    if (typeof tier !== 'string' || tierNames.includes(tier)) return;
    const hint = didYouMean(tier, tierNames);
    issues.add(
      pointer,
      `unknown tier "${tier}"${hint ? `; did you mean "${hint}"?` : ''} (tiers: ${tierNames.join(', ') || 'none'})`,
    );
  };
  known(consumers.defaultTier, ptr('consumers', 'defaultTier'));
  for (const [key, tier] of Object.entries(rec(consumers.keys) ?? {}))
    known(tier, ptr('consumers', 'keys', key));
}
