import { ConfigError } from '../../errors';
import { parseConfig } from '../../config/load';
import {
  KeySharingTracker,
  MAX_TRACKED_ADDRESSES,
  MAX_TRACKED_KEYS,
  formatWindow,
  maxTrackedKeys,
} from './key-sharing';

const HOUR = 3_600_000;

describe('KeySharingTracker', () => {
  it('lets the first `ips` addresses through and flags the next one once per window', () => {
    const tracker = new KeySharingTracker(2, HOUR);
    const t0 = 1_000_000;
    expect(tracker.see('k', '10.0.0.1', t0).kind).toBe('known');
    expect(tracker.see('k', '10.0.0.2', t0 + 1).kind).toBe('known');
    expect(tracker.see('k', '10.0.0.1', t0 + 2).kind).toBe('known');
    expect(tracker.see('k', '10.0.0.3', t0 + 3)).toEqual({
      kind: 'over',
      first: true,
      seen: 3,
      windowEndsAt: t0 + HOUR,
    });
    expect(tracker.see('k', '10.0.0.3', t0 + 4)).toMatchObject({ kind: 'over', first: false });
    expect(tracker.see('k', '10.0.0.4', t0 + 5)).toMatchObject({ kind: 'over', first: false });
    // The first two keep working; other keys are counted apart.
    expect(tracker.see('k', '10.0.0.2', t0 + 6).kind).toBe('known');
    expect(tracker.see('other', '10.0.0.3', t0 + 7).kind).toBe('known');
  });

  it('starts a new window `window` after the key’s first request', () => {
    const tracker = new KeySharingTracker(1, HOUR);
    expect(tracker.see('k', 'a', 0).kind).toBe('known');
    expect(tracker.see('k', 'b', HOUR - 1)).toMatchObject({ kind: 'over', first: true });
    // New window: b is the first address now, and a is the one over.
    expect(tracker.see('k', 'b', HOUR).kind).toBe('known');
    expect(tracker.see('k', 'a', HOUR + 1)).toMatchObject({
      kind: 'over',
      first: true,
      windowEndsAt: 2 * HOUR,
    });
  });

  it('tracks a bounded number of keys, least recently seen dropped first', () => {
    const tracker = new KeySharingTracker(1, HOUR, 2);
    tracker.see('a', 'x', 0);
    tracker.see('b', 'x', 1);
    tracker.see('a', 'x', 2);
    tracker.see('c', 'x', 3);
    expect(tracker.size).toBe(2);
    // a was kept (seen more recently than b): a second address is over.
    expect(tracker.see('a', 'y', 4).kind).toBe('over');
    // b was dropped: it starts afresh, so a new address is its first.
    expect(tracker.see('b', 'y', 5).kind).toBe('known');
  });

  it('caps keys so that keys × ips stays within the address budget', () => {
    expect(maxTrackedKeys(1)).toBe(MAX_TRACKED_KEYS);
    expect(maxTrackedKeys(10)).toBe(MAX_TRACKED_KEYS);
    expect(maxTrackedKeys(1000)).toBe(MAX_TRACKED_ADDRESSES / 1000);
    expect(maxTrackedKeys(1000) * 1000).toBeLessThanOrEqual(MAX_TRACKED_ADDRESSES);
  });

  it.each([
    [HOUR, '1h'],
    [15 * 60_000, '15m'],
    [90_000, '90s'],
    [250, '250ms'],
  ])('writes %i ms as %s', (ms, text) => {
    expect(formatWindow(ms)).toBe(text);
  });
});

const CONFIG = `version: 1
upstreams:
  u: { targets: [http://127.0.0.1:1] }
routes:
  - name: a
    upstream: u
consumers:
  keys: { "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08": pro }
  defaultTier: free
  maxIpsPerKey: { ips: 10, window: 1h }
tiers:
  free: { limit: 20, window: 1m }
  pro: { limit: 100, window: 1m }
`;

describe('consumers.maxIpsPerKey', () => {
  it('defaults to warn', () => {
    expect(parseConfig(CONFIG, 'gateway.yaml', {}).consumers?.maxIpsPerKey).toEqual({
      ips: 10,
      windowMs: HOUR,
      action: 'warn',
    });
    const refuse = CONFIG.replace('window: 1h }', 'window: 30m, action: refuse }');
    expect(parseConfig(refuse, 'gateway.yaml', {}).consumers?.maxIpsPerKey).toEqual({
      ips: 10,
      windowMs: 30 * 60_000,
      action: 'refuse',
    });
  });

  it('is off without the block', () => {
    const off = CONFIG.replace('  maxIpsPerKey: { ips: 10, window: 1h }\n', '');
    expect(parseConfig(off, 'gateway.yaml', {}).consumers?.maxIpsPerKey).toBeUndefined();
  });

  it('refuses bad values with their position', () => {
    const bad = CONFIG.replace('{ ips: 10, window: 1h }', '{ ips: 0, window: 1h, action: block }');
    expect(() => parseConfig(bad, 'gateway.yaml', {})).toThrow(ConfigError);
    try {
      parseConfig(bad, 'gateway.yaml', {});
    } catch (err) {
      const lines = (err as ConfigError).issues.map((i) => `${i.line}:${i.col} ${i.path}`);
      expect(lines).toEqual(['10:24 consumers.maxIpsPerKey.ips', '10:47 consumers.maxIpsPerKey.action']);
    }
  });
});
