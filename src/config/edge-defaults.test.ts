import { ConfigError } from '../errors';
import { parseConfig } from './load';

/** `server:` edge defaults fold into routes: a route's own block replaces them, `false` turns them off. */
const CONFIG = `version: 1
server:
  securityHeaders: true
  cors: { origins: ["https://app.example.com"] }
  compression: { minSize: 2kb }
  headers: { response: { set: { x-gateway: bw } } }
  fault: { delay: { duration: 50ms, percent: 1 } }
  slowDown: { after: 100, delay: 10ms }
upstreams:
  u: { targets: [http://127.0.0.1:1] }
routes:
  - name: inherits
    upstream: u
  - name: overrides
    upstream: u
    cors: { origins: ["*"] }
    compression: { minSize: 0 }
    slowDown: { after: 5 }
  - name: opts-out
    upstream: u
    securityHeaders: false
    cors: false
    compression: false
    headers: false
    fault: false
    slowDown: false
`;

describe('edge policy defaults under server:', () => {
  const config = parseConfig(CONFIG, 'gateway.yaml', {});
  const [inherits, overrides, optsOut] = config.routes;

  it('apply to every route that says nothing', () => {
    expect(inherits!.securityHeaders).toEqual(config.server.securityHeaders);
    expect(inherits!.cors?.origins).toEqual(['https://app.example.com']);
    expect(inherits!.compression?.minSizeBytes).toBe(2048);
    expect(inherits!.headers?.response?.set).toEqual({ 'x-gateway': 'bw' });
    expect(inherits!.fault?.delay).toEqual({ ms: 50, percent: 1 });
    expect(inherits!.slowDown).toMatchObject({ after: 100, delayMs: 10 });
  });

  it('are replaced as a whole by a route block', () => {
    expect(overrides!.cors?.origins).toEqual(['*']);
    expect(overrides!.compression?.minSizeBytes).toBe(0);
    expect(overrides!.slowDown).toMatchObject({ after: 5, delayMs: 100 });
    expect(overrides!.securityHeaders).toBeDefined();
  });

  it('are turned off by false', () => {
    expect(optsOut).toMatchObject({
      securityHeaders: undefined,
      cors: undefined,
      compression: undefined,
      headers: undefined,
      fault: undefined,
      slowDown: undefined,
    });
  });

  it('are checked like route blocks', () => {
    const bad = CONFIG.replace(
      'slowDown: { after: 100, delay: 10ms }',
      'slowDown: { after: 1, key: consumer }',
    );
    expect(() => parseConfig(bad, 'gateway.yaml', {})).toThrow(ConfigError);
    expect(() => parseConfig(bad, 'gateway.yaml', {})).toThrow(
      /server\.slowDown\.key: slowDown counts by ip, route or header/,
    );
  });
});
