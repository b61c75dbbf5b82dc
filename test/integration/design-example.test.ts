/**
 * The whole gateway.yaml example of DESIGN.md (the product contract) is a valid config, and the
 * copy kept in config/examples/ is still that example (when ../shared/DESIGN.md is beside the repo).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load';

const ROOT = join(__dirname, '..', '..');
const EXAMPLE = join(ROOT, 'config', 'examples', 'design.yaml');
const DESIGN = join(ROOT, '..', 'shared', 'DESIGN.md');

describe("DESIGN.md's gateway.yaml example", () => {
  it('validates, every key of it', () => {
    const config = loadConfig(EXAMPLE, {});
    const route = config.routes[0]!;
    expect(route.rateLimit).toEqual([
      expect.objectContaining({ key: { kind: 'ip' }, limit: 100, windowMs: 60_000, burst: 20 }),
    ]);
    expect(route.cache).toEqual({ ttlMs: 30_000, staleIfErrorMs: 600_000, staleWhileRevalidateMs: 0 });
    expect(config.consumers?.defaultTier).toBe('free');
    expect(Object.keys(config.tiers)).toEqual(['free', 'pro', 'enterprise']);
    expect(config.server.cache.maxBytes).toBe(100 * 1024 * 1024);
    expect(config.redis).toBeUndefined();
  });

  const design = existsSync(DESIGN) ? it : it.skip;
  design('is still the example DESIGN.md shows', () => {
    const text = readFileSync(DESIGN, 'utf8');
    const block = /## gateway\.yaml.*?```yaml\n([\s\S]*?)```/s.exec(text)![1]!;
    const copy = readFileSync(EXAMPLE, 'utf8')
      .split('\n')
      .filter((l, i) => i > 1 || !l.startsWith('#'));
    expect(copy.join('\n')).toBe(block);
  });
});
