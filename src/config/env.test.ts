import { ConfigError } from '../errors';
import { expandEnv, expandScalar, resolveCoreScalar } from './env';
import { parseConfig } from './load';

describe('expandEnv', () => {
  const env = { HOST: 'db.internal', PORT: '5432', EMPTY: '' };

  it.each([
    ['${HOST}', 'db.internal', true],
    ['${HOST}:${PORT}', 'db.internal:5432', false],
    ['${MISSING:-fallback}', 'fallback', true],
    ['${EMPTY:-fallback}', 'fallback', true],
    ['${HOST:-fallback}', 'db.internal', true],
    ['${MISSING:-}', '', true],
    ['${EMPTY}', '', true],
    ['http://${HOST}/', 'http://db.internal/', false],
    ['$${HOST}', '${HOST}', false],
    ['cost: $$5 and $${', 'cost: $$5 and ${', false],
    ['no references', 'no references', false],
  ])('%p → %p', (text, value, onlyReferences) => {
    expect(expandEnv(text, env)).toEqual({ ok: true, value, onlyReferences });
  });

  it.each([
    ['${MISSING}', 'environment variable MISSING is not set (use ${MISSING:-default} to give a default)'],
    ['${1BAD}', 'invalid reference "${1BAD}"; expected ${NAME} or ${NAME:-default}'],
    ['${A:=x}', 'invalid reference "${A:=x}"; expected ${NAME} or ${NAME:-default}'],
    ['${HOST', 'unterminated "${" (write "$${" for a literal "${")'],
    ['${A:-${B}}', 'nested references are not supported in "${A:-${B}"'],
  ])('%p is an error', (text, message) => {
    expect(expandEnv(text, env)).toEqual({ ok: false, messages: [message] });
  });
});

describe('expandScalar', () => {
  it.each([
    ['8080', 8080],
    ['1.5', 1.5],
    ['true', true],
    ['null', null],
    ['0x1F', 31],
    ['5s', '5s'],
    ['[a, b]', '[a, b]'],
    ['{x: 1}', '{x: 1}'],
    ['a: b', 'a: b'],
  ])('a plain scalar ${V} with V=%p resolves to %p', (text, value) => {
    expect(expandScalar('${V}', true, { V: text })).toEqual({ kind: 'value', value, text });
  });

  it('keeps quoted scalars as strings', () => {
    expect(expandScalar('${V}', false, { V: '8080' })).toEqual({ kind: 'value', value: '8080' });
  });

  it('keeps mixed text as a string even when plain', () => {
    expect(expandScalar('${V}0', true, { V: '808' })).toEqual({ kind: 'value', value: '8080' });
  });

  it('treats an empty expansion as absent', () => {
    expect(expandScalar('${V:-}', true, {})).toEqual({ kind: 'absent' });
    expect(expandScalar('${V:-}', false, {})).toEqual({ kind: 'absent' });
  });

  it('leaves a resolved core scalar alone when it is not one', () => {
    expect(resolveCoreScalar('hello')).toBe('hello');
    expect(resolveCoreScalar('.inf')).toBe(Infinity);
  });
});

describe('substitution in gateway.yaml', () => {
  const yaml = (serverBlock: string) => `version: 1
server:
${serverBlock}
upstreams:
  users:
    targets: [http://127.0.0.1:3000]
routes:
  - name: users
    upstream: users
`;

  it('uses the default when unset and the variable when set', () => {
    const text = yaml('  listen: ${PORT:-8080}\n  admin:\n    token: ${TOKEN:-dev}');
    expect(parseConfig(text, 'gateway.yaml', {}).server).toMatchObject({
      listen: { host: '0.0.0.0', port: 8080 },
      admin: { token: 'dev' },
    });
    expect(parseConfig(text, 'gateway.yaml', { PORT: '9000', TOKEN: 's3cret' }).server).toMatchObject({
      listen: { host: '0.0.0.0', port: 9000 },
      admin: { token: 's3cret' },
    });
  });

  it('treats an empty ${VAR:-} on an optional key as absent', () => {
    const text = yaml('  admin:\n    token: ${BREAKWATER_ADMIN_TOKEN:-}\n  shutdownTimeout: ${GRACE:-}');
    const { server } = parseConfig(text, 'gateway.yaml', {});
    expect(server.admin.token).toBeUndefined();
    expect(server.shutdownTimeoutMs).toBe(30_000);
  });

  it('coerces a whole plain substitution to a number and keeps a quoted one a string', () => {
    const plain = yaml('  workers: ${WORKERS}');
    expect(parseConfig(plain, 'gateway.yaml', { WORKERS: '4' }).server.workers).toBe(4);
    const quoted = yaml('  workers: "${WORKERS}"');
    expect(() => parseConfig(quoted, 'gateway.yaml', { WORKERS: '4' })).toThrow(
      'gateway.yaml:3:12: server.workers: expected an integer >= 1 or "auto", got "4"',
    );
  });

  it('keeps $${ as a literal ${ and cannot inject YAML structure', () => {
    const text = yaml('  admin:\n    token: "$${NOT_A_VAR}"\n  trustProxy:\n    - ${PROXIES}');
    const attack = '10.0.0.0/8]\nroutes: []';
    expect(() => parseConfig(text, 'gateway.yaml', { PROXIES: attack })).toThrow(ConfigError);
    const config = parseConfig(text, 'gateway.yaml', { PROXIES: '10.0.0.0/8' });
    expect(config.server.admin.token).toBe('${NOT_A_VAR}');
    expect(config.server.trustProxy).toEqual(['10.0.0.0/8']);
  });

  it('reports an unset variable at its scalar, once', () => {
    const text = yaml('  admin:\n    listen: ${ADMIN_LISTEN}');
    expect(() => parseConfig(text, 'gateway.yaml', {})).toThrow(
      new ConfigError([
        {
          file: 'gateway.yaml',
          line: 4,
          col: 13,
          path: 'server.admin.listen',
          message:
            'environment variable ADMIN_LISTEN is not set (use ${ADMIN_LISTEN:-default} to give a default)',
        },
      ]),
    );
  });

  it('names a required key whose substitution is empty', () => {
    const text = yaml('  workers: 1').replace('upstream: users', 'upstream: ${UPSTREAM:-}');
    expect(() => parseConfig(text, 'gateway.yaml', {})).toThrow(
      'gateway.yaml:9:15: routes[0].upstream: is required, but its ${...} substitution is empty',
    );
  });
});

it('reads an unquoted ${...} inside a flow collection as one value', () => {
  const text = 'version: 1\nserver:\n  trustProxy: [${PROXIES}]\n';
  expect(() => parseConfig(text, 'gateway.yaml', {})).toThrow(
    'gateway.yaml:3:16: server.trustProxy[0]: environment variable PROXIES is not set (use ${PROXIES:-default} to give a default)',
  );
});

describe('${...} in flow mappings and sequences', () => {
  const flow = (line: string) => `version: 1
server: { listen: "127.0.0.1:0", limits: ${line} }
upstreams:
  users: { targets: [\${USERS_URL:-http://127.0.0.1:3000}, { url: \${B:-http://127.0.0.1:3001}, weight: \${W:-2} }] }
routes:
  - { name: users, upstream: users, match: { pathPrefix: \${PREFIX:-/users}, methods: [GET, \${M:-POST}] }, timeout: \${T:-5s} }
`;

  it('substitutes defaults and values, typed like plain scalars', () => {
    const config = parseConfig(flow('{ maxHeaderCount: ${X:-10}, maxBodySize: ${SIZE} }'), 'gateway.yaml', {
      SIZE: '2kb',
      M: 'PUT',
    });
    expect(config.server.limits.maxHeaderCount).toBe(10);
    expect(config.server.limits.maxBodyBytes).toBe(2048);
    expect(config.upstreams.users?.targets.map((t) => [t.url, t.weight])).toEqual([
      ['http://127.0.0.1:3000', 1],
      ['http://127.0.0.1:3001', 2],
    ]);
    expect(config.routes[0]?.match).toMatchObject({ pathPrefix: '/users', methods: ['GET', 'PUT'] });
    expect(config.routes[0]?.timeoutMs).toBe(5000);
  });

  it('keeps commas, colons and brackets of a default inside the value', () => {
    const text = flow('{}').replace('weight: ${W:-2}', 'weight: 1').replace('${T:-5s}', '"${T:-5s}"');
    const config = parseConfig(
      text.replace('pathPrefix: ${PREFIX:-/users}', 'headers: { x-list: ${L:-a, b: [c]} }'),
      'gateway.yaml',
      {},
    );
    expect(config.routes[0]?.match.headers).toEqual({ 'x-list': 'a, b: [c]' });
  });

  it('places an unset variable on its value', () => {
    expect(() => parseConfig(flow('{ maxHeaderCount: ${COUNT} }'), 'gateway.yaml', {})).toThrow(
      'gateway.yaml:2:60: server.limits.maxHeaderCount: environment variable COUNT is not set (use ${COUNT:-default} to give a default)',
    );
  });

  it('leaves quoted scalars, $${ escapes and comments as they were', () => {
    const text = `# \${NOT_A_VALUE} } ]\n${flow('{ maxHeaderCount: 7 }')}`.replace(
      'users: { targets:',
      // A function: in a replacement string, `$$` would mean one `$`.
      () => "users: { healthCheck: { path: '/h?q=$${x}' }, targets:",
    );
    const config = parseConfig(text, 'gateway.yaml', {});
    expect(config.upstreams.users?.healthCheck?.path).toBe('/h?q=${x}');
    expect(config.server.limits.maxHeaderCount).toBe(7);
  });
});

it('gives a string key the text a variable held, even when it reads as a number', () => {
  const text = `version: 1
server:
  admin:
    token: \${TOKEN}
upstreams:
  users:
    targets: [http://127.0.0.1:3000]
routes:
  - name: users
    upstream: users
    match:
      headers:
        x-version: \${API_VERSION}
`;
  const config = parseConfig(text, 'gateway.yaml', { TOKEN: '123e4567', API_VERSION: '2.10' });
  expect(config.server.admin.token).toBe('123e4567');
  expect(config.routes[0]?.match.headers).toEqual({ 'x-version': '2.10' });
});
