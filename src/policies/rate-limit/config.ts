/**
 * @module policies/rate-limit/config
 * The rate-limit options as written in gateway.yaml (schema fragments for `rateLimit`,
 * `slowDown`, `consumers`, `tiers`) and their normalised form. `config/` assembles them.
 */
import { Type } from '@sinclair/typebox';
import * as D from '../../config/defaults';
import {
  Int,
  MapOf,
  NAME_PATTERN,
  Obj,
  Opt,
  OptObj,
  PositiveDuration,
  StringEnum,
  TOKEN_PATTERN,
  Tokens,
} from '../../config/schema-kit';
import type * as T from '../../config/types';
import { DURATION_PATTERN, parseDuration, unwrap } from '../../config/units';

/** `ip`, `route`, `consumer` or `header:<name>`. */
export const RATE_LIMIT_KEY_PATTERN = "^(ip|route|consumer|header:[!#$%&'*+.^_`|~0-9A-Za-z-]+)$";
/** A consumer key as stored in config: `sha256:` and 64 hex digits. */
export const CONSUMER_KEY_PATTERN = '^sha256:[0-9a-fA-F]{64}$';
/** Highest `consumers.maxIpsPerKey.ips`: the addresses of each tracked key are held in memory. */
export const MAX_IPS_PER_KEY = 1000;

const Key = (def: string | undefined) =>
  Type.String({
    pattern: RATE_LIMIT_KEY_PATTERN,
    description: 'What is counted: ip, route, header:<name> or consumer (the tier sets the limit).',
    ...(def === undefined ? {} : { default: def }),
  });

/** One tier of a rule's own tier table (`tiers:` on a `key: consumer` rule or shared limit). */
const RuleTierSchema = Obj("This limit's allowance for one tier.", {
  limit: Type.Integer({ minimum: 1, description: 'Requests per window.' }),
  window: Type.String({
    format: 'bw-positive-duration',
    pattern: DURATION_PATTERN,
    description: 'Fixed window the limit counts over, such as 1m or 1h.',
  }),
  burst: Int(0, undefined, 0, 'Extra requests per window, drawn only when limit is spent.'),
  upgrade: Opt(
    Type.String({ description: "Hint in this limit's 429 body for the tier; absent = the tier's own." }),
  ),
});

/** What a limit counts and how much: set on the rule itself, or once under `sharedLimits`. */
const limitFields = {
  limit: Int(1, undefined, undefined, "Requests allowed per window (key: consumer takes the tier's)."),
  window: PositiveDuration(undefined, 'Fixed window the limit counts over, such as 1s, 1m or 15m.'),
  burst: Int(
    0,
    undefined,
    D.DEFAULT_RATE_LIMIT.burst,
    'Extra requests per window, drawn only when limit is spent.',
  ),
  tiers: Opt(
    MapOf(
      NAME_PATTERN,
      RuleTierSchema,
      "key: consumer only: this limit's own allowance per tier instead of the top-level tiers (e.g. an hourly limit beside the per-minute one); must name every tier.",
    ),
  ),
};

/** Which requests a limit counts and how it is told: a route's reference may override them. */
const useFields = {
  methods: Tokens(undefined, 'Only requests with these methods count against this limit; absent = all.'),
  mode: Opt(
    StringEnum(['enforce', 'shadow'], 'enforce', 'shadow: count and log, never refuse (safe roll-out).'),
  ),
  headers: Opt(
    StringEnum(
      ['standard', 'draft', 'legacy', 'none'],
      'standard',
      'standard: RateLimit-Limit/-Remaining/-Reset + RateLimit-Policy; draft: RateLimit + RateLimit-Policy; legacy: X-RateLimit-* (Reset: epoch seconds).',
    ),
  ),
};

// `key` is optional here because a rule may instead name a shared limit; checks.ts requires one of them.
const RateLimitRuleSchema = Obj('One limit; every limit of a route must pass.', {
  shared: Opt(
    Type.String({
      pattern: NAME_PATTERN,
      description:
        'Count into the limit of this name under sharedLimits (one counter for every route that names it); key, limit, window and burst come from there.',
    }),
  ),
  key: Opt(Key(undefined)),
  ...limitFields,
  ...useFields,
});

const SharedLimitSchema = Obj('A limit that several routes count into (rateLimit: { shared: <name> }).', {
  key: Key(undefined),
  ...limitFields,
  ...useFields,
});

export const RateLimitSchema = Opt(
  Type.Union([RateLimitRuleSchema, Type.Array(RateLimitRuleSchema, { minItems: 1 })], {
    description: 'A rate limit, or a list of limits that must all pass.',
  }),
);

export const SharedLimitsSchema = Opt(
  MapOf(
    NAME_PATTERN,
    SharedLimitSchema,
    'Rate limits by name that routes share: every rule naming one (shared: <name>) counts into its one counter.',
  ),
);

export const SlowDownSchema = OptObj('Progressive delay before the hard limit; absent = off.', {
  key: Opt(Key(D.DEFAULT_SLOW_DOWN.key)),
  after: Type.Integer({ minimum: 0, description: 'Requests per window served without delay.' }),
  delay: PositiveDuration(D.DEFAULT_SLOW_DOWN.delay, 'Added delay per request beyond `after`.'),
  maxDelay: PositiveDuration(D.DEFAULT_SLOW_DOWN.maxDelay, 'Longest delay.'),
  window: PositiveDuration(D.DEFAULT_SLOW_DOWN.window, 'Fixed window the requests are counted over.'),
});

export const ConsumersSchema = OptObj('API keys mapped to rate-limit tiers (for key: consumer).', {
  header: Opt(
    Type.String({
      pattern: TOKEN_PATTERN,
      description: 'Request header carrying the API key.',
      default: D.DEFAULT_CONSUMER_HEADER,
    }),
  ),
  keys: Opt(
    MapOf(
      CONSUMER_KEY_PATTERN,
      Type.String({ pattern: NAME_PATTERN }),
      'sha256:<hex of the key> → tier name; never the key itself.',
    ),
  ),
  defaultTier: Type.String({
    pattern: NAME_PATTERN,
    description: 'Tier of requests without a known key (counted by client IP).',
  }),
  maxIpsPerKey: OptObj('Flag (or refuse) a known API key used from more client addresses than expected.', {
    ips: Type.Integer({
      minimum: 1,
      maximum: MAX_IPS_PER_KEY,
      description: 'Distinct client addresses a key may be used from per window; one more is suspicious.',
    }),
    window: PositiveDuration(
      D.DEFAULT_MAX_IPS_PER_KEY.window,
      'Fixed window the addresses are counted over.',
    ),
    action: Opt(
      StringEnum(
        ['warn', 'refuse'],
        D.DEFAULT_MAX_IPS_PER_KEY.action,
        'warn: log and count; refuse: also answer 403 KEY_SHARED to addresses beyond the first `ips`.',
      ),
    ),
  }),
});

export const TiersSchema = Opt(
  MapOf(
    NAME_PATTERN,
    Obj('A rate-limit tier.', {
      limit: Type.Integer({ minimum: 1, description: 'Requests per window.' }),
      window: PositiveDuration(undefined, 'Fixed window the limit counts over.'),
      burst: Int(0, undefined, 0, 'Extra requests per window, drawn only when limit is spent.'),
      upgrade: Opt(Type.String({ description: "Hint shown in this tier's 429 body, e.g. a pricing URL." })),
    }),
    'Rate-limit tiers by name.',
  ),
);

export type RawRateLimit = NonNullable<import('@sinclair/typebox').Static<typeof RateLimitSchema>>;
export type RawSlowDown = NonNullable<import('@sinclair/typebox').Static<typeof SlowDownSchema>>;
export type RawConsumers = NonNullable<import('@sinclair/typebox').Static<typeof ConsumersSchema>>;
export type RawTiers = NonNullable<import('@sinclair/typebox').Static<typeof TiersSchema>>;
export type RawSharedLimits = NonNullable<import('@sinclair/typebox').Static<typeof SharedLimitsSchema>>;

const ms = (value: unknown): number => unwrap(parseDuration(value));

export function parseRateLimitKey(key: string): T.RateLimitKey {
  if (key === 'ip' || key === 'route' || key === 'consumer') return { kind: key };
  return { kind: 'header', name: key.slice('header:'.length).toLowerCase() };
}

/**
 * A single block or a list → the list of rules; absent → empty (no limit). A rule naming a
 * shared limit takes its key, limit, window, burst and tiers from `sharedLimits`, and its
 * methods, mode and headers from there unless it sets its own (checks.ts has made sure the name
 * exists). A rule's own `tiers` table names every tier (checks.ts); an entry without `upgrade`
 * takes the top-level tier's.
 */
export function normalizeRateLimit(
  raw: RawRateLimit | undefined,
  sharedLimits: RawSharedLimits | undefined,
  tiers: RawTiers | undefined,
): T.RateLimitRule[] {
  if (raw === undefined) return [];
  const rules = Array.isArray(raw) ? raw : [raw];
  return rules.map((rule) => {
    if (rule.shared === undefined) return normalizeRule(rule, undefined, tiers);
    const def = sharedLimits?.[rule.shared];
    if (def === undefined) throw new Error(`unknown shared limit "${rule.shared}"`); // checks.ts reports it
    return normalizeRule(
      {
        ...def,
        methods: rule.methods ?? def.methods,
        mode: rule.mode ?? def.mode,
        headers: rule.headers ?? def.headers,
      },
      rule.shared,
      tiers,
    );
  });
}

type RawRule = Omit<import('@sinclair/typebox').Static<typeof RateLimitRuleSchema>, 'shared'>;

function normalizeRule(
  rule: RawRule,
  shared: string | undefined,
  tiers: RawTiers | undefined,
): T.RateLimitRule {
  return {
    // checks.ts guarantees a key on every rule that names no shared limit.
    key: parseRateLimitKey(rule.key ?? 'ip'),
    // key: consumer takes limit and window from the tier; the checks make them optional there.
    limit: rule.limit ?? 0,
    windowMs: rule.window === undefined ? 0 : ms(rule.window),
    burst: rule.burst ?? D.DEFAULT_RATE_LIMIT.burst,
    methods: (rule.methods ?? []).map((m) => m.toUpperCase()),
    mode: rule.mode ?? 'enforce',
    headers: rule.headers ?? 'standard',
    ...(shared === undefined ? {} : { shared }),
    ...(rule.tiers === undefined
      ? {}
      : {
          tiers: normalizeTiers(
            Object.fromEntries(
              Object.entries(rule.tiers).map(([name, tier]) => [
                name,
                { ...tier, upgrade: tier.upgrade ?? tiers?.[name]?.upgrade },
              ]),
            ),
          ),
        }),
  };
}

export function normalizeSlowDown(raw: RawSlowDown | undefined): T.SlowDownConfig | undefined {
  if (raw === undefined) return undefined;
  const S = D.DEFAULT_SLOW_DOWN;
  return {
    key: parseRateLimitKey(raw.key ?? S.key),
    after: raw.after,
    delayMs: ms(raw.delay ?? S.delay),
    maxDelayMs: ms(raw.maxDelay ?? S.maxDelay),
    windowMs: ms(raw.window ?? S.window),
  };
}

export function normalizeConsumers(raw: RawConsumers | undefined): T.ConsumersConfig | undefined {
  if (raw === undefined) return undefined;
  const keys: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const [key, tier] of Object.entries(raw.keys ?? {}))
    keys[key.slice('sha256:'.length).toLowerCase()] = tier;
  const shared = raw.maxIpsPerKey;
  return {
    header: (raw.header ?? D.DEFAULT_CONSUMER_HEADER).toLowerCase(),
    keys,
    defaultTier: raw.defaultTier,
    maxIpsPerKey: shared && {
      ips: shared.ips,
      windowMs: ms(shared.window ?? D.DEFAULT_MAX_IPS_PER_KEY.window),
      action: shared.action ?? D.DEFAULT_MAX_IPS_PER_KEY.action,
    },
  };
}

export function normalizeTiers(raw: RawTiers | undefined): Record<string, T.TierConfig> {
  return Object.fromEntries(
    Object.entries(raw ?? {}).map(([name, tier]) => [
      name,
      { name, limit: tier.limit, windowMs: ms(tier.window), burst: tier.burst ?? 0, upgrade: tier.upgrade },
    ]),
  );
}
