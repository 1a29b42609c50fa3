// examples/grafana/vigil-dashboard.json and examples/prometheus/vigil-alerts.yaml:
// both parse and have the structure their tools expect, every metric name they
// query is one Vigil registers, and, when promtool is installed, the rules pass
// `promtool check rules` and their unit tests, and every dashboard query is
// valid PromQL.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { Telemetry } from '../../src/telemetry/metrics.js';
import { EXAMPLES, exampleText, findExecutable, type Yaml } from './helpers.js';

/** Names Prometheus itself provides, usable next to Vigil's. */
const PROMETHEUS_BUILTINS = new Set(['up']);

/** Every metric name Vigil registers: string literals `vigil_…` in src/, plus the process metrics of a live registry. */
async function vigilMetricNames(): Promise<Set<string>> {
  const names = new Set<string>();
  const walk = (dir: string): void => {
    for (const f of readdirSync(dir)) {
      const p = join(dir, f);
      if (statSync(p).isDirectory()) walk(p);
      else if (p.endsWith('.ts')) for (const m of readFileSync(p, 'utf8').matchAll(/['"`](vigil_[a-z0-9_]+)['"`]/g)) names.add(m[1]);
    }
  };
  walk(join(process.cwd(), 'src'));
  for (const m of await new Telemetry().registry.getMetricsAsJSON()) names.add(m.name);
  return names;
}

/** Metric names in a PromQL expression (identifiers followed by a selector, a range or an operator; not labels or functions). */
function metricNamesIn(expr: string): string[] {
  const withoutStrings = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""');
  return [...withoutStrings.matchAll(/\b(vigil_[a-z0-9_]+|up)\b(?!\s*\()/g)].map((m) => m[1]);
}

function isKnown(name: string, known: Set<string>): boolean {
  if (PROMETHEUS_BUILTINS.has(name) || known.has(name)) return true;
  const base = name.replace(/_(bucket|sum|count)$/, ''); // histogram series
  return base !== name && known.has(base);
}

const promtool = findExecutable('promtool', 'PROMTOOL');
const NO_PROMTOOL = 'skipped: promtool not found on the PATH nor in $PROMTOOL (examples/prometheus/README.md says how to get it)';
if (!promtool) console.warn(`test/examples/monitoring.test.ts: promtool checks ${NO_PROMTOOL}`);

let known: Set<string>;
beforeAll(async () => {
  known = await vigilMetricNames();
});

describe('examples/grafana/vigil-dashboard.json', () => {
  const dash = JSON.parse(exampleText('grafana', 'vigil-dashboard.json')) as Yaml;
  const panels = dash.panels as Yaml[];
  const queryPanels = panels.filter((p) => p.type !== 'row');
  const exprs = queryPanels.flatMap((p) => (p.targets as Yaml[]).map((t) => t.expr as string));

  it('is a Grafana dashboard: identity, variables, unique ids, panels inside the grid and not overlapping', () => {
    expect(dash).toMatchObject({ title: 'Vigil', uid: expect.stringMatching(/^[a-z0-9-]{1,40}$/) });
    expect(dash.schemaVersion).toBeGreaterThanOrEqual(36);
    const vars = dash.templating.list as Yaml[];
    expect(vars.find((v) => v.name === 'datasource')).toMatchObject({ type: 'datasource', query: 'prometheus' });
    for (const v of vars.filter((x) => x.type === 'query')) {
      expect(v.datasource.uid).toBe('${datasource}');
      for (const name of metricNamesIn(v.definition)) expect(isKnown(name, known), `variable ${v.name} uses ${name}`).toBe(true);
    }
    const ids = panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    const cells = new Set<string>();
    for (const p of panels) {
      const { x, y, w, h } = p.gridPos;
      expect(x + w, `${p.title} fits in 24 columns`).toBeLessThanOrEqual(24);
      for (let i = x; i < x + w; i++) {
        for (let j = y; j < y + h; j++) {
          expect(cells.has(`${i},${j}`), `${p.title} overlaps another panel at ${i},${j}`).toBe(false);
          cells.add(`${i},${j}`);
        }
      }
    }
  });

  it('every panel queries the chosen Prometheus data source with distinct ref ids', () => {
    expect(queryPanels.length).toBeGreaterThan(10);
    for (const p of queryPanels) {
      expect(['timeseries', 'stat', 'gauge', 'bargauge', 'table']).toContain(p.type);
      expect(p.datasource, p.title).toEqual({ type: 'prometheus', uid: '${datasource}' });
      expect(p.targets.length, p.title).toBeGreaterThan(0);
      const refs = (p.targets as Yaml[]).map((t) => t.refId);
      expect(new Set(refs).size, p.title).toBe(refs.length);
      for (const t of p.targets) {
        expect(t.expr, p.title).toMatch(/\S/);
        // Scoped to the chosen job and instances (except Prometheus' own `up`, which is scoped the same way).
        expect(t.expr, p.title).toContain('job=~"$job", instance=~"$instance"');
      }
    }
  });

  it('uses only metrics Vigil registers, and shows the ones operators need', () => {
    const used = new Set(exprs.flatMap(metricNamesIn));
    for (const name of used) expect(isKnown(name, known), `${name} is a Vigil metric`).toBe(true);
    for (const needed of [
      'vigil_receiver_accepted_log_records_total',
      'vigil_receiver_refused_log_records_total',
      'vigil_exporter_sent_log_records_total',
      'vigil_exporter_send_failed_log_records_total',
      'vigil_exporter_enqueue_failed_log_records_total',
      'vigil_exporter_queue_size',
      'vigil_exporter_queue_capacity',
      'vigil_anomalies_total',
      'vigil_anomaly_tracked_keys',
      'vigil_worm_upload_backlog_segments',
      'vigil_process_cpu_seconds_total',
      'vigil_process_resident_memory_bytes',
    ]) {
      expect(used, `the dashboard shows ${needed}`).toContain(needed);
    }
  });

  it.skipIf(!promtool)(`every query is valid PromQL${promtool ? '' : ` (${NO_PROMTOOL})`}`, () => {
    // Grafana's variables replaced by values Prometheus accepts, each query as a recording rule.
    const concrete = (e: string) => e.replaceAll('$__rate_interval', '5m').replaceAll('$__range', '6h').replaceAll('$job', '.*').replaceAll('$instance', '.*');
    const rules = { groups: [{ name: 'dashboard', rules: exprs.map((e, i) => ({ record: `dashboard:query_${i}`, expr: concrete(e) })) }] };
    const dir = mkdtempSync(join(tmpdir(), 'vigil-promql-'));
    try {
      writeFileSync(join(dir, 'dashboard-rules.yaml'), stringifyYaml(rules));
      const out = execFileSync(promtool!, ['check', 'rules', join(dir, 'dashboard-rules.yaml')], { encoding: 'utf8' });
      expect(out).toContain(`SUCCESS: ${exprs.length} rules found`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('examples/prometheus/vigil-alerts.yaml', () => {
  const file = parseYaml(exampleText('prometheus', 'vigil-alerts.yaml')) as Yaml;
  const rules = (file.groups as Yaml[]).flatMap((g) => g.rules as Yaml[]);

  it('has the Prometheus rule-file structure: groups → rules with alert, expr, for, labels, annotations', () => {
    expect(Object.keys(file)).toEqual(['groups']);
    const groups = file.groups as Yaml[];
    expect(groups.length).toBeGreaterThan(0);
    expect(new Set(groups.map((g) => g.name)).size).toBe(groups.length);
    for (const g of groups) {
      expect(Object.keys(g).every((k) => ['name', 'interval', 'rules', 'limit'].includes(k)), g.name).toBe(true);
      expect(g.rules.length, g.name).toBeGreaterThan(0);
    }
    const names = rules.map((r) => r.alert);
    expect(new Set(names).size).toBe(names.length);
    for (const r of rules) {
      expect(Object.keys(r).every((k) => ['alert', 'expr', 'for', 'keep_firing_for', 'labels', 'annotations'].includes(k)), r.alert).toBe(true);
      expect(r.alert).toMatch(/^Vigil[A-Z][A-Za-z0-9]+$/);
      expect(typeof r.expr === 'string' && r.expr.trim().length > 0, r.alert).toBe(true);
      expect(r.for, r.alert).toMatch(/^\d+[smhd]$/);
      expect(['critical', 'warning', 'info'], r.alert).toContain(r.labels.severity);
      expect(r.annotations.summary, r.alert).toMatch(/\S/);
      expect(r.annotations.description, r.alert).toMatch(/\S/);
    }
  });

  it('uses only metrics Vigil registers, and covers anomalies, delivery, queues, S3 backlog and Vigil down', () => {
    const used = new Set(rules.flatMap((r) => metricNamesIn(r.expr)));
    for (const name of used) expect(isKnown(name, known), `${name} is a Vigil metric`).toBe(true);
    for (const needed of [
      'vigil_anomalies_total',
      'vigil_exporter_send_failed_log_records_total',
      'vigil_exporter_enqueue_failed_log_records_total',
      'vigil_exporter_queue_size',
      'vigil_exporter_queue_capacity',
      'vigil_worm_upload_backlog_segments',
      'up',
    ]) {
      expect(used, `an alert uses ${needed}`).toContain(needed);
    }
  });

  it('the README lists every alert', () => {
    const readme = exampleText('prometheus', 'README.md');
    for (const r of rules) expect(readme, r.alert).toContain(`\`${r.alert}\``);
  });

  it.skipIf(!promtool)(`passes promtool check rules and its unit tests${promtool ? '' : ` (${NO_PROMTOOL})`}`, () => {
    const dir = join(EXAMPLES, 'prometheus');
    expect(execFileSync(promtool!, ['check', 'rules', join(dir, 'vigil-alerts.yaml')], { encoding: 'utf8' })).toContain(`SUCCESS: ${rules.length} rules found`);
    // Unit tests: each alert that matters fires on its series and stays quiet on healthy ones.
    expect(execFileSync(promtool!, ['test', 'rules', join(dir, 'vigil-alerts.test.yaml')], { encoding: 'utf8', cwd: dir })).toContain('SUCCESS');
  });
});
