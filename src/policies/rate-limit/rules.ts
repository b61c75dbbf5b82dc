/**
 * @module policies/rate-limit/rules
 * Turns a route's `rateLimit` rules into what the stage runs per request: for each rule its
 * method filter, its mode, and how a request finds its quota (counter + settings) and key. A
 * `key: consumer` rule holds one quota per tier and picks one per request (consumers.ts): the
 * top-level tiers' limits, or the rule's own tier table (`tiers:`, e.g. an hourly allowance per
 * tier beside the per-minute one); either way one counter per rule, tier and key.
 *
 * A rule naming a `sharedLimits` entry (`shared: <name>`) counts into the counter of that name,
 * `shared:<name>:<key kind>`, whichever route it is on: the state store hands every route of a
 * build the same Counter for the same id and settings, the cluster primary and Redis key their
 * counts by the same prefix, so requests to any of those routes spend one allowance per key.
 *
 * Burst is one counter of `limit + burst` points per window, so burst requests are only drawn
 * once `limit` is spent. The headers advertise the nominal `limit` and count Remaining down to
 * 0 over it; burst is slack a client should not plan on, as with nginx's `burst`.
 */
import type { ConsumersConfig, RateLimitRule, TierConfig } from '../../config/types';
import type { Exchange } from '../../pipeline/exchange';
import type { StageContext } from '../../pipeline/stage';
import { ConsumerResolver, type Resolved } from './consumers';
import { keepCounter, windowSeconds, type Counter, type CounterDeps } from './counter';
import { compileHeaders, compileTierHeader, type HeaderWriter, type TierWriter } from './headers';
import { compileKey, keyLabel } from './key';

/** One counter and everything about it that does not change per request. */
export interface Quota {
  readonly counter: Counter;
  /** Nominal limit per window (what the headers advertise). */
  readonly limit: number;
  readonly windowSeconds: number;
  /** Tier name for metrics; '' unless the rule is keyed by consumer. */
  readonly tier: string;
  /** Extra public fields of this quota's 429 body (tier, upgrade), consumer rules only. */
  readonly details: Readonly<Record<string, unknown>> | undefined;
  readonly writeHeaders: HeaderWriter | undefined;
  /** Adds the tier name (X-RateLimit-Tier or RateLimit-Tier); consumer rules that send headers only. */
  readonly writeTier: TierWriter | undefined;
}

/** One rule of a route, ready to run. */
export interface Rule {
  readonly index: number;
  /** Methods this rule counts; undefined = all. */
  readonly methods: ReadonlySet<string> | undefined;
  readonly shadow: boolean;
  /** ip, route, header-<name> or consumer, for logs. */
  readonly label: string;
  /** The shared limit this rule counts into; undefined = the route's own counter. */
  readonly shared: string | undefined;
  pick(ex: Exchange): Resolved<Quota>;
}

/** What building a route's rules needs. */
export interface RuleEnv {
  readonly deps: CounterDeps;
  readonly ctx: StageContext;
  readonly consumers: ConsumersConfig | undefined;
  readonly tiers: Readonly<Record<string, TierConfig>>;
}

export function compileRules(rules: readonly RateLimitRule[], env: RuleEnv): Rule[] {
  const labels = rules.map((rule) => keyLabel(rule.key));
  return rules.map((rule, index) => {
    const label = labels[index]!;
    // The draft's policy name: a shared limit's name, `default` for a lone limit, else the key
    // kind (numbered if repeated).
    const repeated = labels.filter((l) => l === label).length > 1;
    const name = rule.shared ?? (rules.length === 1 ? 'default' : repeated ? `${label}-${index + 1}` : label);
    return compileRule(rule, index, label, name, env);
  });
}

function compileRule(rule: RateLimitRule, index: number, label: string, name: string, env: RuleEnv): Rule {
  const base = {
    index,
    methods: rule.methods.length > 0 ? new Set(rule.methods) : undefined,
    shadow: rule.mode === 'shadow',
    label,
    shared: rule.shared,
  };
  const id =
    rule.shared === undefined ? `${env.ctx.route}:${index}:${label}` : `shared:${rule.shared}:${label}`;
  if (rule.key.kind === 'consumer') {
    const resolver = consumerResolver(rule, id, name, env);
    return { ...base, pick: (ex) => resolver.resolve(ex) };
  }
  const settings = { limit: rule.limit, burst: rule.burst, windowMs: rule.windowMs };
  const quota = makeQuota(rule, settings, id, name, undefined, env);
  const keyOf = compileKey(rule.key);
  return { ...base, pick: (ex) => ({ tier: quota, key: keyOf(ex) }) };
}

function consumerResolver(
  rule: RateLimitRule,
  id: string,
  name: string,
  env: RuleEnv,
): ConsumerResolver<Quota> {
  const { consumers } = env;
  // A rule's own table names every tier (checks.ts), so it stands in for the top-level one.
  const tiers = rule.tiers ?? env.tiers;
  const fallback = consumers && tiers[consumers.defaultTier];
  // checks.ts guarantees both; a config that skipped validation is a bug worth failing the build.
  if (!consumers || !fallback)
    throw new Error(`route ${env.ctx.route}: key: consumer needs consumers and tiers`);
  const quotas = new Map<string, Quota>();
  for (const tier of Object.values(tiers))
    quotas.set(tier.name, makeQuota(rule, tier, `${id}:${tier.name}`, name, tier, env));
  return new ConsumerResolver(consumers, quotas, quotas.get(fallback.name)!);
}

function makeQuota(
  rule: RateLimitRule,
  settings: { readonly limit: number; readonly burst: number; readonly windowMs: number },
  id: string,
  name: string,
  tier: TierConfig | undefined,
  env: RuleEnv,
): Quota {
  const seconds = windowSeconds(settings.windowMs);
  const counter = keepCounter(
    { id, points: settings.limit + settings.burst, windowSeconds: seconds },
    env.deps,
  );
  const advertised = { mode: rule.headers, limit: settings.limit, windowSeconds: seconds, name };
  return {
    counter,
    limit: settings.limit,
    windowSeconds: seconds,
    tier: tier?.name ?? '',
    details:
      tier &&
      Object.freeze(
        tier.upgrade === undefined ? { tier: tier.name } : { tier: tier.name, upgrade: tier.upgrade },
      ),
    writeHeaders: compileHeaders(advertised),
    writeTier: tier && compileTierHeader(rule.headers, tier.name),
  };
}
