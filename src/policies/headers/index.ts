/**
 * @module policies/headers
 * Pipeline position: inside `cors` and `securityHeaders`, outside the rate limit and everything
 * else: the request changes are made to the header list sent upstream before any stage below
 * can send it (retries, the cache's background refresh and its conditional requests all copy
 * that list), and the response changes reach every answer, the gateway's own 429 or 503 and
 * the cache's included. `headers: { request: {set, add, remove}, response: {set, add, remove} }`,
 * applied in that order: remove, then set (replaces), then add (keeps what is there).
 * Names the gateway manages (hop-by-hop, Content-Length, Host, X-Forwarded-*, X-Request-Id)
 * are refused at validation (`checks.ts`). `cors` and `securityHeaders` run outside this stage,
 * so they see its result: a `set: {x-frame-options: SAMEORIGIN}` here wins over the security
 * default (which never overrides a value already present), but a `remove` cannot take away
 * what they add afterwards.
 */
import { settle } from '../../pipeline/settle';
import type { ReplyHeaders, Stage, StageFactory } from '../../pipeline/stage';
import type { HeaderChangesConfig, HeadersConfig } from './config';

/** Changes to the upstream request's flat [name, value, …] header list. */
export class RequestHeaderChanges {
  /** Names removed (and replaced by `set`), lower-case. */
  private readonly drop: ReadonlySet<string>;
  /** Lengths of those names: most headers are skipped without lower-casing their name. */
  private readonly dropLengths: ReadonlySet<number>;
  /** [name, value, …] appended after the removal. */
  private readonly append: readonly string[];

  constructor(config: HeaderChangesConfig) {
    const drop = new Set([...config.remove, ...Object.keys(config.set)]);
    this.drop = drop;
    this.dropLengths = new Set([...drop].map((name) => name.length));
    this.append = [...Object.entries(config.set), ...Object.entries(config.add)].flat();
  }

  /** Edits `list` in place (compacting it, no copy). */
  apply(list: string[]): void {
    if (this.drop.size > 0) {
      let kept = 0;
      for (let i = 0; i < list.length; i += 2) {
        const name = list[i]!;
        if (this.dropLengths.has(name.length) && this.drop.has(name.toLowerCase())) continue;
        list[kept++] = name;
        list[kept++] = list[i + 1]!;
      }
      list.length = kept;
    }
    for (const item of this.append) list.push(item);
  }
}

/** Changes to a Reply's headers (lower-case names, owned by the Reply). */
export class ResponseHeaderChanges {
  private readonly remove: readonly string[];
  private readonly set: readonly (readonly [string, string])[];
  private readonly add: readonly (readonly [string, string])[];

  constructor(config: HeaderChangesConfig) {
    this.remove = config.remove;
    this.set = Object.entries(config.set);
    this.add = Object.entries(config.add);
  }

  apply(headers: ReplyHeaders): void {
    for (const name of this.remove) if (headers[name] !== undefined) delete headers[name];
    for (const [name, value] of this.set) headers[name] = value;
    for (const [name, value] of this.add) {
      const current = headers[name];
      if (current === undefined) headers[name] = value;
      else if (typeof current === 'string') headers[name] = [current, value];
      else headers[name] = [...current, value];
    }
  }
}

export const headers: StageFactory<HeadersConfig> = {
  kind: 'headers',
  select: (route) => route.headers,
  create(config) {
    const request = config.request && new RequestHeaderChanges(config.request);
    const response = config.response && new ResponseHeaderChanges(config.response);
    if (response === undefined) {
      if (request === undefined) return undefined;
      // Nothing to do on the way back: no await, no settle.
      const requestOnly: Stage = (ex, next) => {
        request.apply(ex.upstreamHeaders);
        return next(ex);
      };
      return requestOnly;
    }
    return async function headersStage(ex, next) {
      request?.apply(ex.upstreamHeaders);
      const reply = await settle(next, ex);
      response.apply(reply.headers);
      return reply;
    };
  },
};
