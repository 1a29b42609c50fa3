// The alertmanager exporter against a real HTTP server implementing
// Alertmanager's POST /api/v2/alerts, fed with alert records made by the real
// anomaly processor.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { alertmanagerConfigSchema, AlertmanagerExporter, type PostableAlert, toPostableAlert } from '../../../src/exporters/alertmanager/alertmanager.js';
import type { LogBatch, VigilRecord } from '../../../src/pipeline/record.js';
import { anomalyConfigSchema } from '../../../src/processors/anomaly/config.js';
import { AnomalyProcessor } from '../../../src/processors/anomaly/processor.js';
import { silentLogger } from '../../../src/telemetry/logger.js';
import { Telemetry } from '../../../src/telemetry/metrics.js';
import { makeRecord } from '../../helpers/records.js';

const T = Date.UTC(2026, 2, 2, 12);

/**
 * Alertmanager's API v2 (api/v2/openapi.yaml) body of POST /api/v2/alerts:
 * `postableAlerts`, an array of `postableAlert` = `alert` (required `labels`,
 * optional `generatorURL`, format uri) plus optional `annotations`, `startsAt`
 * and `endsAt` (format date-time). `labels` and `annotations` are `labelSet`s:
 * maps of string to string. Alertmanager then rejects an alert without labels,
 * with a label name outside [a-zA-Z_][a-zA-Z0-9_]*, or ending before it starts.
 * Stricter than the spec in one way: a key the API does not define fails here,
 * since Alertmanager would drop it silently (a misspelt `generatorUrl`).
 */
const labelSet = z.record(z.string(), z.string());
const postableAlert = z
  .strictObject({
    labels: labelSet.refine((l) => Object.keys(l).length > 0, 'an alert needs at least one label').refine((l) => Object.keys(l).every((k) => /^[a-zA-Z_][a-zA-Z0-9_]*$/.test(k)), 'invalid label name'),
    annotations: labelSet.optional(),
    startsAt: z.iso.datetime({ offset: true }).optional(),
    endsAt: z.iso.datetime({ offset: true }).optional(),
    generatorURL: z.url().optional(),
  })
  .refine((a) => !a.startsAt || !a.endsAt || Date.parse(a.startsAt) <= Date.parse(a.endsAt), 'endsAt is before startsAt');
const postableAlerts = z.array(postableAlert);

interface Received {
  alerts: PostableAlert[];
  headers: IncomingMessage['headers'];
}

/** A minimal Alertmanager: answers each POST with the next status of `statuses` (then 200). */
class FakeAlertmanager {
  readonly received: Received[] = [];
  /** Every POST body that did not match postableAlerts, with why (each test ends expecting none). */
  readonly invalid: string[] = [];
  /** How many POST bodies were checked against postableAlerts. */
  checked = 0;
  attempts = 0;
  private waiters: { n: number; resolve: () => void }[] = [];
  private server: Server;
  constructor(private readonly statuses: number[] = []) {
    this.server = createServer((req, res) => this.handle(req, res));
  }
  async listen(): Promise<string> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }
  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((r) => this.server.close(() => r()));
  }
  /** Resolves once `n` requests (accepted or not) have arrived. */
  attemptsReached(n: number): Promise<void> {
    if (this.attempts >= n) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ n, resolve }));
  }
  private handle(req: IncomingMessage, res: ServerResponse): void {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      this.attempts++;
      for (const w of this.waiters.filter((w) => this.attempts >= w.n)) w.resolve();
      if (req.method !== 'POST' || req.url !== '/api/v2/alerts') {
        res.writeHead(404).end('not found');
        return;
      }
      const status = this.statuses.shift() ?? 200;
      let alerts: PostableAlert[];
      try {
        alerts = JSON.parse(body);
      } catch {
        this.invalid.push(`not JSON: ${body.slice(0, 80)}`);
        res.writeHead(400).end('bad json');
        return;
      }
      this.checked++;
      const valid = postableAlerts.safeParse(alerts);
      if (!valid.success) {
        this.invalid.push(valid.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
        res.writeHead(400).end('invalid alerts');
        return;
      }
      if (status === 200) this.received.push({ alerts, headers: req.headers });
      res.writeHead(status, { 'content-type': 'application/json' }).end(status === 200 ? '' : JSON.stringify({ error: 'busy' }));
    });
  }
}

/** Alert records from the real processor: a calm population, then a burst from one address. */
function anomalyBatch(): { batch: LogBatch; alerts: VigilRecord[] } {
  const p = new AnomalyProcessor('anomaly', anomalyConfigSchema.parse({ detectors: [{ name: 'burst', key: ['client.address'], rate: '1m', warmup: 0 }] }), silentLogger(), new Telemetry({ processMetrics: false }));
  p.process(Array.from({ length: 200 }, (_, i) => makeRecord({ timeMs: T + i * 60_000, attrs: { 'client.address': `10.0.0.${i % 50}` } })));
  const out = p.process(Array.from({ length: 100 }, (_, i) => makeRecord({ timeMs: T + 300 * 60_000 + i * 100, attrs: { 'client.address': '203.0.113.1', 'audit.record_id': `src-${i}` } })));
  return { batch: out, alerts: out.filter((r) => r.log.eventName === 'vigil.anomaly') };
}

const servers: FakeAlertmanager[] = [];
afterEach(async () => {
  const done = servers.splice(0);
  await Promise.all(done.map((s) => s.close()));
  // Every payload the exporter posted was a valid postableAlerts body.
  for (const s of done) {
    expect(s.invalid).toEqual([]);
    expect(s.checked).toBe(s.attempts);
  }
});

async function setup(statuses: number[] = [], extra: object = {}) {
  const am = new FakeAlertmanager(statuses);
  servers.push(am);
  const endpoint = await am.listen();
  const telemetry = new Telemetry({ processMetrics: false });
  const cfg = alertmanagerConfigSchema.parse({ endpoint, retry_on_failure: { initial_interval: 5, max_interval: 20, max_elapsed_time: 10_000 }, ...extra });
  return { am, telemetry, exporter: new AlertmanagerExporter('alertmanager', cfg, silentLogger(), telemetry) };
}

describe('alertmanager exporter', () => {
  it('posts the vigil.anomaly records as Alertmanager v2 alerts and ignores the others', async () => {
    const { am, exporter, telemetry } = await setup([], { headers: { authorization: 'Bearer t0ken' }, labels: { cluster: 'eu-1' }, generator_url: 'http://vigil.example/status' });
    const { batch, alerts } = anomalyBatch();
    expect(alerts).toHaveLength(1);
    expect(batch.length).toBeGreaterThan(1);
    await exporter.consume(batch);
    await exporter.whenIdle();
    expect(am.received).toHaveLength(1);
    const [a] = am.received[0].alerts;
    expect(am.received[0].headers.authorization).toBe('Bearer t0ken');
    expect(a.generatorURL).toBe('http://vigil.example/status');
    expect(a.labels).toEqual({ cluster: 'eu-1', alertname: 'VigilAnomaly', detector: 'burst', key: '203.0.113.1', severity: expect.stringMatching(/^(warning|critical)$/) });
    expect(a.annotations.summary).toMatch(/^burst \[203\.0\.113\.1\]: .* records in ~1m vs baseline/);
    expect(a.annotations.source_record_id).toMatch(/^src-/);
    expect(Number(a.annotations.score)).toBeGreaterThanOrEqual(0.9);
    // Stands for the processor's cooldown (1h by default).
    expect(Date.parse(a.endsAt) - Date.parse(a.startsAt)).toBe(3_600_000);
    expect(Date.parse(a.startsAt)).toBeGreaterThanOrEqual(T + 300 * 60_000);

    // A batch without alerts sends nothing.
    await exporter.consume([makeRecord({})]);
    await exporter.whenIdle();
    expect(am.attempts).toBe(1);
    expect((await telemetry.registry.metrics()).match(/vigil_exporter_sent_log_records_total\{exporter="alertmanager"\} (\d+)/)?.[1]).toBe('1');
    await exporter.shutdown(new AbortController().signal);
  });

  it('retries transient failures (503, 429) and then delivers', async () => {
    const { am, exporter } = await setup([503, 429]);
    const { alerts } = anomalyBatch();
    await exporter.consume(alerts);
    await exporter.whenIdle();
    expect(am.attempts).toBe(3);
    expect(am.received).toHaveLength(1);
    expect(am.received[0].alerts[0].labels.detector).toBe('burst');
  });

  it('does not retry a request Alertmanager rejects (4xx), and counts it as failed', async () => {
    const { am, exporter, telemetry } = await setup([400]);
    const { alerts } = anomalyBatch();
    await exporter.consume(alerts);
    await exporter.whenIdle();
    expect(am.attempts).toBe(1);
    expect(am.received).toHaveLength(0);
    expect((await telemetry.registry.metrics()).match(/vigil_exporter_send_failed_log_records_total\{exporter="alertmanager"\} (\d+)/)?.[1]).toBe('1');
  });

  it('never holds up the pipeline: consume resolves while Alertmanager is failing', async () => {
    const { am, exporter } = await setup([503, 503, 503]);
    const { alerts } = anomalyBatch();
    await exporter.consume(alerts); // resolves at once; delivery continues in the background
    expect(am.received).toHaveLength(0);
    await am.attemptsReached(4);
    await exporter.whenIdle();
    expect(am.received).toHaveLength(1);
  });

  it('gives up at the shutdown deadline when Alertmanager stays down', async () => {
    const { am, exporter, telemetry } = await setup(Array(1000).fill(503));
    const { alerts } = anomalyBatch();
    await exporter.consume(alerts);
    await am.attemptsReached(2);
    const deadline = new AbortController();
    const stopped = exporter.shutdown(deadline.signal);
    deadline.abort();
    await stopped;
    await exporter.whenIdle();
    expect(am.received).toHaveLength(0);
    expect((await telemetry.registry.metrics()).match(/vigil_exporter_send_failed_log_records_total\{exporter="alertmanager"\} (\d+)/)?.[1]).toBe('1');
  });

  it('checks payloads against the postableAlerts schema (it rejects what Alertmanager rejects)', () => {
    const { alerts } = anomalyBatch();
    const good = toPostableAlert(alerts[0], { labels: {}, generator_url: 'http://vigil.example/status' });
    expect(postableAlerts.safeParse([good]).success).toBe(true);
    const bad: unknown[] = [
      { annotations: good.annotations }, // no labels
      { ...good, labels: {} },
      { ...good, labels: { ...good.labels, port: 4317 } }, // a number, not a string
      { ...good, labels: { 'bad-name': 'x' } },
      { ...good, annotations: { score: 0.9 } },
      { ...good, startsAt: 'yesterday' },
      { ...good, endsAt: '2026-03-02 12:00' }, // not RFC 3339
      { ...good, startsAt: good.endsAt, endsAt: good.startsAt },
      { ...good, generatorURL: 'not a url' },
      { ...good, generatorUrl: 'http://vigil.example/' }, // misspelt: Alertmanager would drop it
    ];
    for (const b of bad) expect(postableAlerts.safeParse([b]).success, JSON.stringify(b)).toBe(false);
    expect(postableAlerts.safeParse(good).success).toBe(false); // one alert, not a list
  });

  it('maps a record without a cooldown to a 1h alert, or resolve_after when set', () => {
    const { alerts } = anomalyBatch();
    const rec = alerts[0];
    rec.log.attributes = rec.log.attributes.filter((a) => a.key !== 'anomaly.cooldown_seconds');
    const a = toPostableAlert(rec, { labels: {} });
    expect(Date.parse(a.endsAt) - Date.parse(a.startsAt)).toBe(3_600_000);
    const b = toPostableAlert(rec, { labels: {}, resolve_after: 300_000, generator_url: 'http://vigil.example/status' });
    expect(Date.parse(b.endsAt) - Date.parse(b.startsAt)).toBe(300_000);
    expect(b.generatorURL).toBe('http://vigil.example/status');
  });

  it('validates its config with messages that say how to fix it', () => {
    expect(alertmanagerConfigSchema.safeParse({}).success).toBe(false);
    const r = alertmanagerConfigSchema.safeParse({ endpoint: 'ftp://x', labels: { 'bad-label': 'x' } });
    expect(r.success).toBe(false);
    const messages = r.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n');
    expect(messages).toMatch(/endpoint: the endpoint must be an http/);
    expect(messages).toMatch(/labels.bad-label: label names are/);
  });
});
