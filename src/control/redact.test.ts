/**
 * What GET /admin/config hides: the admin token, URL passwords and credential headers.
 */
import { redactConfig, REDACTED } from './redact';

describe('redactConfig', () => {
  it('hides the admin token, URL passwords and secret headers, and keeps the rest', () => {
    const config = {
      server: { admin: { listen: { host: '127.0.0.1', port: 9090 }, token: 's3cret' } },
      redis: { url: 'redis://user:hunter2@redis:6379/0', keyPrefix: 'bw:' },
      upstreams: { api: { targets: [{ url: 'http://a:b@10.0.0.5:3000' }, { url: 'http://10.0.0.6:3000' }] } },
      routes: [{ name: 'r', headers: { request: { set: { Authorization: 'Bearer x', 'x-env': 'prod' } } } }],
      consumers: { keys: { 'sha256:9f86d0': 'pro' } },
    };
    expect(redactConfig(config)).toEqual({
      server: { admin: { listen: { host: '127.0.0.1', port: 9090 }, token: REDACTED } },
      redis: { url: `redis://user:${REDACTED}@redis:6379/0`, keyPrefix: 'bw:' },
      upstreams: {
        api: { targets: [{ url: `http://a:${REDACTED}@10.0.0.5:3000` }, { url: 'http://10.0.0.6:3000' }] },
      },
      routes: [{ name: 'r', headers: { request: { set: { Authorization: REDACTED, 'x-env': 'prod' } } } }],
      consumers: { keys: { 'sha256:9f86d0': 'pro' } },
    });
  });

  it('leaves an unset token visible as unset and does not touch the input', () => {
    const config = { server: { admin: { token: undefined } }, redis: { url: 'redis://:pw@h:6379' } };
    expect(redactConfig(config)).toEqual({
      server: { admin: { token: undefined } },
      redis: { url: `redis://:${REDACTED}@h:6379` },
    });
    expect(config.redis.url).toBe('redis://:pw@h:6379');
  });
});
