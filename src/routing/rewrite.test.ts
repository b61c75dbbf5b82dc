import type { RewriteConfig } from '../config/types';
import { compileRewrite } from './rewrite';

const rw = (stripPrefix?: string, addPrefix?: string): RewriteConfig => ({ stripPrefix, addPrefix });

describe('compileRewrite', () => {
  it.each<[string, RewriteConfig | undefined]>([
    ['no rewrite block', undefined],
    ['both prefixes unset', rw()],
    ['both prefixes root', rw('/', '/')],
  ])('is disabled (undefined) for %s', (_title, config) => {
    expect(compileRewrite(config)).toBeUndefined();
  });

  it.each<[RewriteConfig, string, string]>([
    // stripPrefix on segment boundaries
    [rw('/users'), '/users/7', '/7'],
    [rw('/users'), '/users', '/'],
    [rw('/users'), '/users/', '/'],
    [rw('/users'), '/usersX', '/usersX'],
    [rw('/users'), '/other/users/7', '/other/users/7'],
    [rw('/users/'), '/users/7', '/7'],
    [rw('/api/v1'), '/api/v1/items', '/items'],
    [rw('/api/v1'), '/api/v10/items', '/api/v10/items'],
    // addPrefix, never doubling the slash
    [rw(undefined, '/v1'), '/7', '/v1/7'],
    [rw(undefined, '/v1/'), '/7', '/v1/7'],
    [rw(undefined, 'v1'), '/7', '/v1/7'],
    [rw(undefined, '/v1'), '/', '/v1/'],
    // both: strip then add; a trailing slash is kept (Envoy prefix_rewrite)
    [rw('/users', '/v1'), '/users/7', '/v1/7'],
    [rw('/users', '/v1'), '/users', '/v1'],
    [rw('/users', '/v1'), '/users/', '/v1/'],
    [rw('/users', '/v1/'), '/users/7/orders', '/v1/7/orders'],
    [rw('/users', '/v1'), '/usersX', '/usersX'],
    [rw('/', '/v1'), '/users', '/v1/users'],
  ])('%j: %s → %s', (config, path, expected) => {
    const rewrite = compileRewrite(config);
    expect(rewrite?.(path)).toBe(expected);
  });
});
