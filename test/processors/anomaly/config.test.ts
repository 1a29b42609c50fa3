// The processor's config: the documented forms work, defaults cover every
// detection, and bad config is refused with errors naming the detector and key.
import { describe, expect, it } from 'vitest';
import { defaultRegistry } from '../../../src/components.js';
import { ConfigError } from '../../../src/config/errors.js';
import { validateConfig } from '../../../src/config/load.js';
import { anomalyConfigSchema, defaultDetectors, KINDS, kindOf } from '../../../src/processors/anomaly/config.js';
import { compileDetectors } from '../../../src/processors/anomaly/scorer.js';

function load(anomaly: unknown) {
  return validateConfig(
    {
      receivers: {},
      processors: { anomaly },
      exporters: { debug: {} },
      service: { pipelines: { logs: { processors: ['anomaly'], exporters: ['debug'] } } },
    },
    defaultRegistry(),
    'test',
    { mode: 'replay' },
  );
}

function issues(anomaly: unknown): string[] {
  try {
    load(anomaly);
  } catch (err) {
    if (err instanceof ConfigError) return err.issues.map((i) => `${i.path}: ${i.message}`);
    throw err;
  }
  return [];
}

describe('anomaly config', () => {
  it('accepts the documented one-line detector form', () => {
    const cfg = load({ detectors: [{ name: 'route_latency', key: ['http.route'], value: 'http.server.request.duration' }] });
    const c = cfg.processors.get('anomaly')!.config as ReturnType<typeof anomalyConfigSchema.parse>;
    expect(c.detectors).toEqual([{ name: 'route_latency', key: ['http.route'], value: 'http.server.request.duration' }]);
    expect(c.threshold).toBeUndefined(); // the budget sets the thresholds
    expect(c.alert_budget).toBe(1);
    expect(c.max_keys).toBe(100_000);
    expect(c.half_life).toBe(7 * 86_400_000);
    expect(c.cooldown).toBe(3_600_000);
    const [d] = compileDetectors(c);
    expect(d.detector.kind).toBe('value');
    expect(d.detector.warmup).toBe(300);
  });

  it('accepts every kind, conditions, durations and per-detector overrides', () => {
    const c = anomalyConfigSchema.parse({
      threshold: 0.95,
      max_keys: 5000,
      half_life: '3d',
      warmup: 7,
      cooldown: '10m',
      state: { directory: '/tmp/x', interval: '1m' },
      detectors: [
        { name: 'a', key: ['client.address'], rate: '1m', min_count: 10 },
        { name: 'b', key: ['http.route|url.path'], ratio: 'http.response.status_code >= 500', window: '2m' },
        { name: 'c', key: ['http.route'], value: 'http.server.request.duration', scale: 'log', direction: 'up', aggregate: '1m', min_count: 3, suppress: '1h', threshold: 0.99 },
        { name: 'd', key: ['client.address'], distinct: 'user.id', where: 'audit.outcome == "failure"', window: '10m' },
        { name: 'e', key: ['user.id'], novelty: 'net(client.address)', half_life: '30d', max_keys: 10 },
        { name: 'f', key: ['user.id', 'service.name'], hour_of_week: true, warmup: 100 },
        { name: 'g', key: ['user.id'], rate: '1h', weight: 'http.response.body.size' },
      ],
    });
    expect(c.state).toEqual({ directory: '/tmp/x', interval: 60_000 });
    const compiled = compileDetectors(c);
    expect(compiled.map((x) => x.detector.kind)).toEqual(['rate', 'ratio', 'value', 'distinct', 'novelty', 'hour_of_week', 'rate']);
    expect(compiled.map((x) => x.detector.warmup)).toEqual([7, 7, 7, 7, 7, 100, 7]);
    expect(compiled[4].table.maxKeys).toBe(10);
    expect(compiled[0].table.maxKeys).toBe(5000);
    expect(compiled[2].threshold).toBe(0.99);
    expect(compiled[0].threshold).toBe(0.95);
  });

  it('defaults cover every detection of the issue, one detector each, all valid', () => {
    const c = anomalyConfigSchema.parse({});
    const names = compileDetectors(c).map((d) => d.name);
    expect(names).toEqual([
      'route_5xx',
      'route_429',
      'client_rate',
      'login_failures',
      'credential_stuffing',
      'off_hours',
      'new_country',
      'sensitive_route_network',
      'download_bytes',
      'route_latency',
    ]);
    // Every kind is used by the defaults.
    expect(new Set(defaultDetectors(['/admin*']).map(kindOf))).toEqual(new Set(KINDS));
    // The defaults pass the same checks as user detectors.
    expect(issues({ detectors: defaultDetectors(['/admin*', '/internal/*']) })).toEqual([]);
  });

  it('names the detector and the key of every problem', () => {
    const got = issues({
      detectors: [
        { name: 'lat', key: ['http.route'] },
        { name: 'two', key: ['user.id'], value: 'x', rate: '1m' },
        { name: 'bad_where', key: ['user.id'], novelty: 'geo.country.iso_code', where: 'audit.outcome = "failure"' },
        { name: 'bad_key', key: ['user id'], hour_of_week: true },
        { name: 'wrong_option', key: ['user.id'], novelty: 'geo.country.iso_code', window: '5m' },
        { name: 'bad_ref', key: ['user.id'], distinct: 'foo(bar)' },
        { name: 'lat', key: ['user.id'], rate: '0s' },
        { name: 'typo', key: ['user.id'], rate: '1m', windw: '5m' },
        { name: 'Bad-Name', key: [], rate: 'soon' },
      ],
    });
    const joined = got.join('\n');
    expect(joined).toContain('processors.anomaly.detectors.0: detector "lat": give exactly one signal kind: rate, ratio, value, distinct, novelty, hour_of_week');
    expect(joined).toContain('processors.anomaly.detectors.1.value: detector "two": has rate and value: give exactly one signal kind per detector');
    expect(joined).toContain('processors.anomaly.detectors.2.where: detector "bad_where": invalid condition: use == to compare (at column 15)');
    expect(joined).toContain('processors.anomaly.detectors.3.key.0: detector "bad_key": "user id" is not an attribute name');
    expect(joined).toContain('processors.anomaly.detectors.4.window: detector "wrong_option": window applies to ratio/distinct detectors, not novelty');
    expect(joined).toContain('processors.anomaly.detectors.5.distinct: detector "bad_ref": unknown function foo()');
    expect(joined).toContain('processors.anomaly.detectors.6.rate: detector "lat": the rate window must be longer than 0');
    expect(joined).toMatch(/processors\.anomaly\.detectors\.7: unknown key\(s\) "windw"/);
    expect(joined).toMatch(/processors\.anomaly\.detectors\.8\.name: detector names are lowercase/);
    expect(joined).toMatch(/processors\.anomaly\.detectors\.8\.key: list the attributes/);
    expect(joined).toMatch(/processors\.anomaly\.detectors\.8\.rate: invalid duration "soon"/);
  });

  it('refuses two detectors of the same name', () => {
    expect(issues({ detectors: [{ name: 'x', key: ['user.id'], rate: '1m' }, { name: 'x', key: ['user.id'], hour_of_week: true }] })).toContain(
      'processors.anomaly.detectors.1.name: detector "x" is defined twice (also detectors.0): names must be unique',
    );
  });

  it('checks the processor-level settings too', () => {
    expect(issues({ threshold: 1.5 }).join()).toMatch(/processors\.anomaly\.threshold: threshold is a score in \(0, 1\)/);
    expect(issues({ max_keys: 0 }).join()).toMatch(/processors\.anomaly\.max_keys/);
    expect(issues({ state: { dir: 'x' } }).join()).toMatch(/processors\.anomaly\.state: unknown key\(s\) "dir"/);
    expect(issues({ sensitive_routes: ['/admin"*'] }).join()).toMatch(/processors\.anomaly\.sensitive_routes\.0/);
    expect(issues({ cooldown: 'forever' }).join()).toMatch(/processors\.anomaly\.cooldown: invalid duration/);
  });
});
