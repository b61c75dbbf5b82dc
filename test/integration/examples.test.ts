/**
 * Every gateway.yaml the project ships as an example is a valid config: the files of
 * config/examples/ (design.yaml has its own test) and the one inside deploy/k8s/configmap.yaml,
 * whose shutdown timings must also fit the pod's terminationGracePeriodSeconds.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { ConfigError } from '../../src/errors';
import { loadConfig, parseConfig } from '../../src/config/load';

const ROOT = join(__dirname, '..', '..');
const EXAMPLES = join(ROOT, 'config', 'examples');
const K8S = join(ROOT, 'deploy', 'k8s');

const examples = readdirSync(EXAMPLES)
  .filter((name) => name.endsWith('.yaml') && name !== 'design.yaml')
  .sort();

/** The problems a config has, as the validator prints them (empty = valid). */
function problems(load: () => unknown): string {
  try {
    load();
    return '';
  } catch (err) {
    if (err instanceof ConfigError) return err.message;
    throw err;
  }
}

describe('config/examples', () => {
  it('has the documented examples', () => {
    expect(examples).toEqual(
      expect.arrayContaining([
        'canary-weights.yaml',
        'read-heavy-stale-cache.yaml',
        'single-api.yaml',
        'tiered-public-api.yaml',
      ]),
    );
  });

  it.each(examples)('%s validates with an empty environment', (name) => {
    const file = join(EXAMPLES, name);
    expect(problems(() => loadConfig(file, {}))).toBe('');
  });

  it.each(examples)('%s points editors at the JSON Schema', (name) => {
    const first = readFileSync(join(EXAMPLES, name), 'utf8').split('\n', 1)[0];
    expect(first).toBe('# yaml-language-server: $schema=../gateway.schema.json');
  });
});

describe('deploy/k8s gateway.yaml', () => {
  const docs = parseAllDocuments(readFileSync(join(K8S, 'configmap.yaml'), 'utf8')).map((d) => d.toJS());
  const text = docs.find((d) => d?.kind === 'ConfigMap')?.data?.['gateway.yaml'] as string;
  const deployment = parseAllDocuments(readFileSync(join(K8S, 'deployment.yaml'), 'utf8'))
    .map((d) => d.toJS())
    .find((d) => d?.kind === 'Deployment');

  it('validates once the admin token Secret is there', () => {
    expect(text).toEqual(expect.any(String));
    expect(problems(() => parseConfig(text, 'configmap.yaml', { BREAKWATER_ADMIN_TOKEN: 't' }))).toBe('');
  });

  it('refuses to start without the admin token (admin listens on 0.0.0.0)', () => {
    expect(problems(() => parseConfig(text, 'configmap.yaml', {}))).toMatch(/BREAKWATER_ADMIN_TOKEN/);
  });

  it('drains within terminationGracePeriodSeconds', () => {
    const { server } = parseConfig(text, 'configmap.yaml', { BREAKWATER_ADMIN_TOKEN: 't' });
    expect(server.drainDelayMs).toBeGreaterThan(0);
    const grace = deployment.spec.template.spec.terminationGracePeriodSeconds as number;
    expect(grace * 1000).toBeGreaterThan(server.drainDelayMs + server.shutdownTimeoutMs);
  });

  it('is mounted as a directory, so ConfigMap updates reach the pod', () => {
    const container = deployment.spec.template.spec.containers[0];
    const mount = container.volumeMounts.find((m: { name: string }) => m.name === 'config');
    expect(mount).toEqual({ name: 'config', mountPath: '/etc/breakwater', readOnly: true });
    expect(container.args).toEqual(['--config', '/etc/breakwater/gateway.yaml']);
  });
});
