import { parseConfig } from '../../config/load';
import { ConfigError } from '../../errors';
import type { ReplyHeaders } from '../../pipeline/stage';
import { normalizeHeaders } from './config';
import { RequestHeaderChanges, ResponseHeaderChanges } from './index';

const changes = (set = {}, add = {}, remove: string[] = []) => ({ set, add, remove });

describe('RequestHeaderChanges', () => {
  it('removes (any case), replaces with set, appends add, in place', () => {
    const list = [
      'Accept',
      '*/*',
      'X-Internal',
      'secret',
      'x-env',
      'dev',
      'Cookie',
      'a=1',
      'x-request-id',
      'r',
    ];
    const same = list;
    new RequestHeaderChanges(changes({ 'x-env': 'prod' }, { cookie: 'b=2' }, ['x-internal'])).apply(list);
    expect(list).toBe(same);
    expect(list).toEqual([
      'Accept',
      '*/*',
      'Cookie',
      'a=1',
      'x-request-id',
      'r',
      'x-env',
      'prod',
      'cookie',
      'b=2',
    ]);
  });

  it('leaves a list without the names alone', () => {
    const list = ['accept', '*/*'];
    new RequestHeaderChanges(changes({}, {}, ['x-gone'])).apply(list);
    expect(list).toEqual(['accept', '*/*']);
  });
});

describe('ResponseHeaderChanges', () => {
  it('removes, sets and adds (keeping what is there)', () => {
    const headers: ReplyHeaders = {
      'x-internal': '1',
      'cache-control': 'no-cache',
      'set-cookie': ['a=1'],
      link: '</a>',
    };
    new ResponseHeaderChanges(
      changes(
        { 'cache-control': 'public, max-age=60' },
        { 'set-cookie': 'b=2', link: '</b>', 'x-new': 'y' },
        ['x-internal'],
      ),
    ).apply(headers);
    expect(headers).toEqual({
      'cache-control': 'public, max-age=60',
      'set-cookie': ['a=1', 'b=2'],
      link: ['</a>', '</b>'],
      'x-new': 'y',
    });
  });
});

describe('normalizeHeaders', () => {
  it('lower-cases names and drops empty sides', () => {
    expect(normalizeHeaders({ request: { set: { 'X-Env': 'prod' } }, response: {} })).toEqual({
      request: { set: { 'x-env': 'prod' }, add: {}, remove: [] },
      response: undefined,
    });
    expect(normalizeHeaders({})).toBeUndefined();
    expect(normalizeHeaders(false, { request: { remove: ['x-a'] } })).toBeUndefined();
    expect(normalizeHeaders(undefined, { request: { remove: ['X-A'] } })?.request?.remove).toEqual(['x-a']);
  });
});

describe('validation refuses the names the gateway manages', () => {
  const problems = (headers: string): string[] => {
    try {
      parseConfig(
        `version: 1\nupstreams:\n  u: { targets: [http://127.0.0.1:1] }\nroutes:\n  - name: r\n    upstream: u\n    headers:\n${headers}`,
        'gateway.yaml',
        {},
      );
      return [];
    } catch (err) {
      if (err instanceof ConfigError) return err.message.split('\n');
      throw err;
    }
  };

  it.each([
    [
      '      request: { set: { X-Forwarded-For: 1.2.3.4 } }\n',
      'gateway.yaml:8:25: routes[0].headers.request.set.X-Forwarded-For: X-Forwarded-For is set by the gateway (server.trustProxy decides whose values are kept)',
    ],
    [
      '      request: { remove: [connection] }\n',
      'gateway.yaml:8:27: routes[0].headers.request.remove[0]: connection is hop-by-hop: it belongs to one connection and is never forwarded',
    ],
    [
      '      request: { add: { host: other } }\n',
      'gateway.yaml:8:25: routes[0].headers.request.add.host: host is set by the hostHeader option of the route',
    ],
    [
      '      response: { set: { x-request-id: mine } }\n',
      'gateway.yaml:8:26: routes[0].headers.response.set.x-request-id: x-request-id is managed by the gateway (kept from the client when sane, else generated)',
    ],
    [
      '      response: { remove: [Transfer-Encoding] }\n',
      'gateway.yaml:8:28: routes[0].headers.response.remove[0]: Transfer-Encoding is hop-by-hop: it belongs to one connection and is never forwarded',
    ],
  ])('%s', (headers, message) => {
    expect(problems(headers)).toEqual([message]);
  });

  it('lets a response carry X-Forwarded-* or Host if an operator wants', () => {
    expect(problems('      response: { set: { x-forwarded-host: a, host: b } }\n')).toEqual([]);
  });
});
