/**
 * @module policies/cache/redis-tier
 * The optional shared tier of the response cache: entries written to Redis so that every
 * replica (and worker) can answer from what one of them fetched. One Redis key per URL holds
 * the most recently stored variant, binary-safe: a 4-byte length, a JSON head (status, headers,
 * timing, directives, vary key) and the raw body. Redis is never allowed to fail a request: it
 * is only asked while `shared.up`, every error reads as a miss, and writes are fire-and-forget
 * (the connection itself logs going down and coming back).
 */
import { createHash } from 'node:crypto';
import type { SharedState } from '../../state/shared-state';
import { entryFrom, type CacheEntry, type EntryFields } from './entry';
import type { CacheKey } from './key';

const FRAME_VERSION = 1;
/** Keys per SCAN round trip when purging. */
const SCAN_COUNT = 500;

const ignore = (): void => undefined;

/** Escapes SCAN MATCH glob characters in a literal prefix. */
function globLiteral(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&');
}

export function encodeEntry(entry: CacheEntry): Buffer {
  const fields: EntryFields & { v: number } = {
    v: FRAME_VERSION,
    status: entry.status,
    headers: entry.headers,
    responseTime: entry.responseTime,
    initialAgeMs: entry.initialAgeMs,
    lifetimeMs: entry.lifetimeMs,
    noCache: entry.noCache,
    noStale: entry.noStale,
    staleIfErrorMs: entry.staleIfErrorMs,
    staleWhileRevalidateMs: entry.staleWhileRevalidateMs,
    vary: entry.vary,
  };
  const head = Buffer.from(JSON.stringify(fields));
  const frame = Buffer.allocUnsafe(4 + head.length + entry.body.length);
  frame.writeUInt32BE(head.length, 0);
  head.copy(frame, 4);
  entry.body.copy(frame, 4 + head.length);
  return frame;
}

/** The entry in a frame, or undefined when the frame is not one this version wrote. */
export function decodeEntry(frame: Buffer): CacheEntry | undefined {
  if (frame.length < 4) return undefined;
  const headLength = frame.readUInt32BE(0);
  if (4 + headLength > frame.length) return undefined;
  try {
    const raw = JSON.parse(frame.toString('utf8', 4, 4 + headLength)) as EntryFields & { v?: number };
    if (raw.v !== FRAME_VERSION || typeof raw.status !== 'number') return undefined;
    const vary = raw.vary && {
      names: raw.vary.names,
      // JSON turns "header absent" (undefined) into null.
      values: raw.vary.values.map((value) => value ?? undefined),
    };
    const fields: EntryFields = {
      ...raw,
      staleIfErrorMs: raw.staleIfErrorMs ?? undefined,
      staleWhileRevalidateMs: raw.staleWhileRevalidateMs ?? undefined,
      vary,
    };
    // A copy, so the entry does not pin the whole frame (head included) in memory.
    return entryFrom(fields, Buffer.from(frame.subarray(4 + headLength)));
  } catch {
    return undefined;
  }
}

export class RedisTier {
  constructor(readonly shared: SharedState) {}

  /** `cache:<route>:<sha1(host, path)>`; route names are [A-Za-z0-9_.-], safe in a SCAN pattern. */
  private redisKey(key: CacheKey): string {
    const digest = createHash('sha1').update(key.host).update('\n').update(key.path).digest('hex');
    return this.shared.key(`cache:${key.route}:${digest}`);
  }

  /** The entry stored for `key`, or undefined (absent, Redis down or slow, malformed). */
  async get(key: CacheKey): Promise<CacheEntry | undefined> {
    if (!this.shared.up) return undefined;
    try {
      const frame = await this.shared.client.getBuffer(this.redisKey(key));
      return frame ? decodeEntry(frame) : undefined;
    } catch {
      return undefined;
    }
  }

  /** Stores `entry` for `keepMs`; a failure only means other replicas will not see it. */
  set(key: CacheKey, entry: CacheEntry, keepMs: number): void {
    if (!this.shared.up || keepMs < 1) return;
    this.shared.client.set(this.redisKey(key), encodeEntry(entry), 'PX', Math.ceil(keepMs)).catch(ignore);
  }

  delete(keys: readonly CacheKey[]): void {
    if (!this.shared.up || keys.length === 0) return;
    this.shared.client.del(...keys.map((key) => this.redisKey(key))).catch(ignore);
  }

  /** Deletes every entry (of one route) in the background. */
  purge(route?: string): void {
    if (!this.shared.up) return;
    const match = globLiteral(this.shared.key(route === undefined ? 'cache:' : `cache:${route}:`)) + '*';
    const stream = this.shared.client.scanStream({ match, count: SCAN_COUNT });
    stream.on('data', (keys: string[]) => {
      if (keys.length > 0) this.shared.client.unlink(...keys).catch(ignore);
    });
    stream.on('error', ignore);
  }
}
