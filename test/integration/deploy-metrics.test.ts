/**
 * The deploy kit speaks breakwater's real metrics: every `breakwater_*` name in deploy/ (alerts,
 * their tests, the Grafana dashboard, the docs) and in the example configs' comments is a metric
 * defined in src/observability/metrics.ts, every label a selector matches on is one of that
 * metric's labels, and the dashboard is valid JSON with its data source as an import input.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const METRICS_TS = readFileSync(join(ROOT, 'src', 'observability', 'metrics.ts'), 'utf8');
const DASHBOARD = join(ROOT, 'deploy', 'grafana', 'breakwater.json');

/** Labels Prometheus itself adds (target labels, relabelling, histogram buckets). */
const SCRAPE_LABELS = new Set(['job', 'instance', 'namespace', 'pod', 'le']);

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

const FILES = [
  ...filesUnder(join(ROOT, 'deploy')),
  ...filesUnder(join(ROOT, 'config', 'examples')).filter((f) => !f.endsWith('design.yaml')),
].filter((f) => /\.(ya?ml|json|md)$/.test(f));

/** The metric name as defined in metrics.ts for a name used in a query. */
function baseName(used: string): string {
  return used.replace(/_(bucket|sum|count)$/, '');
}

/** labelNames of each metric defined in metrics.ts (by full name). */
function definedLabels(): Map<string, Set<string>> {
  const labels = new Map<string, Set<string>>();
  const definition = /name: `\$\{PREFIX\}([a-z_]+)`,[\s\S]*?registers:/g;
  for (const m of METRICS_TS.matchAll(definition)) {
    // prom-client metrics list labelNames; the one-label histograms (LabelledHistogram) a labelName.
    const names =
      /labelNames: \[([^\]]*)\]/.exec(m[0])?.[1] ?? /labelName: ('[a-z_]+')/.exec(m[0])?.[1] ?? '';
    labels.set(`breakwater_${m[1]}`, new Set([...names.matchAll(/'([a-z_]+)'/g)].map((l) => l[1]!)));
  }
  return labels;
}

describe('metric names in the deploy kit', () => {
  it('finds the files and the metric definitions', () => {
    expect(FILES.map((f) => relative(ROOT, f))).toEqual(
      expect.arrayContaining([
        'deploy/prometheus/alerts.yml',
        'deploy/prometheus/alerts.test.yml',
        'deploy/grafana/breakwater.json',
      ]),
    );
    expect(definedLabels().get('breakwater_requests_total')).toEqual(new Set(['route', 'method', 'code']));
  });

  it.each(FILES.map((f) => relative(ROOT, f)))('%s uses only metrics that exist', (file) => {
    const text = readFileSync(join(ROOT, file), 'utf8');
    const used = new Set([...text.matchAll(/breakwater_[a-z_]+/g)].map((m) => baseName(m[0])));
    const missing = [...used].filter(
      (name) => !METRICS_TS.includes(`\${PREFIX}${name.slice('breakwater_'.length)}\``),
    );
    expect(missing).toEqual([]);
  });

  it.each(FILES.map((f) => relative(ROOT, f)))('%s matches only on labels those metrics have', (file) => {
    const labels = definedLabels();
    // JSON escapes the quotes inside queries; read them back as PromQL.
    const text = readFileSync(join(ROOT, file), 'utf8').replaceAll('\\"', '"');
    const wrong: string[] = [];
    for (const m of text.matchAll(/(breakwater_[a-z_]+)\{([^}]*)\}/g)) {
      const metric = baseName(m[1]!);
      for (const [, label] of m[2]!.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)/g)) {
        if (!SCRAPE_LABELS.has(label!) && !labels.get(metric)?.has(label!)) wrong.push(`${metric}{${label}}`);
      }
    }
    expect(wrong).toEqual([]);
  });
});

describe('Grafana dashboard', () => {
  const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8'));

  it('takes its Prometheus data source as an import input', () => {
    expect(dashboard.__inputs).toEqual([
      expect.objectContaining({ name: 'DS_PROMETHEUS', type: 'datasource', pluginId: 'prometheus' }),
    ]);
    const uids = new Set<string>();
    const walk = (node: unknown): void => {
      if (Array.isArray(node)) node.forEach(walk);
      else if (node && typeof node === 'object') {
        const ds = (node as { datasource?: { type?: string; uid?: string } }).datasource;
        if (ds?.type === 'prometheus') uids.add(ds.uid ?? '');
        Object.values(node).forEach(walk);
      }
    };
    walk(dashboard);
    expect([...uids]).toEqual(['${DS_PROMETHEUS}']);
  });

  it('has unique panel ids and the panels the runbook names', () => {
    const panels = dashboard.panels as Array<{ id: number; title: string; type: string }>;
    const ids = panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    const titles = panels.map((p) => p.title);
    for (const title of [
      'Request rate per route',
      '5xx error rate per route',
      'Latency p50 / p95 / p99 per route',
      'Circuit breakers',
      'Upstream target health',
      'Retries per route',
      'Shed (503 OVERLOADED)',
      'Rate limited (429)',
      'Cache hit ratio per route',
      'Redis connection',
      'Config reloads',
    ])
      expect(titles).toContain(title);
  });
});
