/**
 * Unit tests: The byte-bounded LRU store: bound under 10x fill, per-entry bound, variants, invalidation, purge.
 */
import { NO_EVENTS, type GatewayEvents } from '../../observability/events';
import { cacheKey } from './key';
import { CacheStore } from './store';
import { testEntry } from './test-entries';

function recordingEvents(): GatewayEvents & { bytes: number[] } {
  const bytes: number[] = [];
  return { ...NO_EVENTS, bytes, cacheBytes: (b: number) => void bytes.push(b) };
}

const key = (path: string, route = 'r') => cacheKey(route, 'example.com', path);
const HOUR = 3_600_000;

describe('CacheStore', () => {
  it('stays under its byte bound while filled 10x over', () => {
    const events = recordingEvents();
    const store = new CacheStore(1024 * 1024, events);
    const body = Buffer.alloc(10 * 1024, 1);
    const entrySize = testEntry({ body }).size;
    const count = Math.ceil((10 * 1024 * 1024) / entrySize);
    for (let i = 0; i < count; i++) {
      expect(store.put(key(`/item/${i}`), testEntry({ body }), HOUR, performance.now())).toBe(true);
      expect(store.bytes).toBeLessThanOrEqual(1024 * 1024);
    }
    expect(Math.max(...events.bytes)).toBeLessThanOrEqual(1024 * 1024);
    expect(events.bytes.at(-1)).toBe(store.bytes);
    // The most recent entries survived, the oldest were evicted.
    expect(store.find(key(`/item/${count - 1}`), {})).toBeDefined();
    expect(store.find(key('/item/0'), {})).toBeUndefined();
  });

  it('refuses an entry over 1/8 of the bound', () => {
    const store = new CacheStore(80 * 1024, NO_EVENTS);
    expect(store.maxEntryBytes).toBe(10 * 1024);
    expect(store.put(key('/big'), testEntry({ body: Buffer.alloc(11 * 1024) }), HOUR, 0)).toBe(false);
    expect(store.find(key('/big'), {})).toBeUndefined();
  });

  it('keeps variants apart and answers each from its own', () => {
    const store = new CacheStore(1024 * 1024, NO_EVENTS);
    const names = ['accept-language'];
    const en = testEntry({ body: 'hello', vary: { names, request: { 'accept-language': 'en' } } });
    const fr = testEntry({ body: 'bonjour', vary: { names, request: { 'accept-language': 'fr' } } });
    store.put(key('/greet'), en, HOUR, 0);
    store.put(key('/greet'), fr, HOUR, 0);
    expect(store.find(key('/greet'), { 'accept-language': 'en' })?.body.toString()).toBe('hello');
    expect(store.find(key('/greet'), { 'accept-language': 'fr' })?.body.toString()).toBe('bonjour');
    expect(store.find(key('/greet'), { 'accept-language': 'de' })).toBeUndefined();
    store.remove(key('/greet'), en);
    expect(store.find(key('/greet'), { 'accept-language': 'en' })).toBeUndefined();
    expect(store.find(key('/greet'), { 'accept-language': 'fr' })).toBeDefined();
  });

  it('drops old variants when the resource changes its Vary', () => {
    const store = new CacheStore(1024 * 1024, NO_EVENTS);
    store.put(key('/v'), testEntry({ vary: { names: ['accept'], request: { accept: 'a' } } }), HOUR, 0);
    store.put(key('/v'), testEntry({ vary: { names: ['origin'], request: { origin: 'o' } } }), HOUR, 0);
    expect(store.find(key('/v'), { accept: 'a' })).toBeUndefined();
    expect(store.find(key('/v'), { origin: 'o' })).toBeDefined();
  });

  it('invalidates a URL under every cached route, and a fetch begun before it does not store', () => {
    const store = new CacheStore(1024 * 1024, NO_EVENTS);
    store.attach('a', undefined);
    store.attach('b', undefined);
    store.put(key('/x', 'a'), testEntry(), HOUR, 0);
    store.put(key('/x', 'b'), testEntry(), HOUR, 0);
    store.put(key('/y', 'a'), testEntry(), HOUR, 0);
    const begun = performance.now();
    store.invalidate('example.com', '/x');
    expect(store.find(key('/x', 'a'), {})).toBeUndefined();
    expect(store.find(key('/x', 'b'), {})).toBeUndefined();
    expect(store.find(key('/y', 'a'), {})).toBeDefined();
    expect(store.put(key('/x', 'a'), testEntry(), HOUR, begun)).toBe(false);
    expect(store.put(key('/x', 'a'), testEntry(), HOUR, performance.now() + 1)).toBe(true);
  });

  it('purges one route or everything and says how many entries went', () => {
    const store = new CacheStore(1024 * 1024, NO_EVENTS);
    store.put(key('/1', 'a'), testEntry(), HOUR, 0);
    store.put(key('/2', 'a'), testEntry(), HOUR, 0);
    store.put(key('/1', 'ab'), testEntry(), HOUR, 0);
    expect(store.purge('a')).toBe(2);
    expect(store.find(key('/1', 'ab'), {})).toBeDefined();
    expect(store.purge()).toBe(1);
    expect(store.bytes).toBe(0);
  });
});
