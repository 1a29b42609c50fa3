// The status page in a real browser (Debian's headless Chromium driven by
// playwright-core): it loads without console errors, shows an injected
// anomaly within seconds through its live stream, renders attacker-controlled
// values as text (no script runs), and the JSON and SSE endpoints answer.
// Skipped, saying so, when /usr/bin/chromium is not installed.
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoConfig } from '../../../src/cli/demo.js';
import { type RunningVigil, startVigilWithConfig } from '../../../src/cli/start.js';
import { defaultRegistry } from '../../../src/components.js';
import { validateConfig } from '../../../src/config/load.js';
import { buildPlan } from '../../../src/simulate/plan.js';
import { selectScenarios } from '../../../src/simulate/scenarios.js';
import { sendEvents } from '../../../src/simulate/send.js';
import type { SimEvent } from '../../../src/simulate/traffic.js';
import type { StatusSnapshot } from '../../../src/telemetry/status/state.js';
import { tempDir } from '../../helpers/tmp.js';

const CHROMIUM = '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) console.warn(`status page browser test skipped: ${CHROMIUM} is missing (apt-get install -y chromium)`);

const XSS_USER = '<img src=x onerror="window.__xss=1">';

/**
 * Runs in the page (a string: the test project has no DOM types). Lists every element that
 * sticks out of its card or makes the card scroll sideways, and every key or detector name
 * broken inside a word (a run without spaces between <wbr>s laid out on more than one line).
 */
const LAYOUT_PROBLEMS = `(() => {
  const out = [];
  for (const card of document.querySelectorAll('.card')) {
    const c = card.getBoundingClientRect();
    if (card.scrollWidth > card.clientWidth + 1) out.push(card.id + ' scrolls sideways (' + card.scrollWidth + ' > ' + card.clientWidth + ')');
    for (const e of card.querySelectorAll('*')) {
      const r = e.getBoundingClientRect();
      if (r.width === 0 && r.height === 0) continue;
      if (r.right > c.right + 1 || r.left < c.left - 1) out.push(card.id + ': <' + e.tagName.toLowerCase() + ' class="' + e.getAttribute('class') + '"> overflows its card');
    }
  }
  for (const k of document.querySelectorAll('.key, .det')) {
    for (const n of k.childNodes) {
      if (n.nodeType !== 3 || !n.textContent.trim()) continue;
      for (const m of n.textContent.matchAll(/\\S+/g)) {
        const range = document.createRange();
        range.setStart(n, m.index);
        range.setEnd(n, m.index + m[0].length);
        const tops = new Set([...range.getClientRects()].map((r) => Math.round(r.top)));
        if (tops.size > 1) out.push('"' + m[0] + '" is broken inside a word');
      }
    }
  }
  return out;
})()`;

async function until<T>(what: string, f: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('status page', () => {
  let vigil: RunningVigil;
  let base: string;
  let endpoint: string;

  beforeAll(async () => {
    const dir = tempDir('vigil-status-');
    vigil = await startVigilWithConfig(validateConfig(demoConfig(dir), defaultRegistry()));
    base = vigil.telemetryServer!.url('/');
    endpoint = (vigil.service.receivers[0].instance as unknown as { grpcAddress(): string }).grpcAddress();
  });
  afterAll(async () => {
    await vigil?.stop();
  });

  it('serves a JSON snapshot and a live event stream', async () => {
    const snap = (await (await fetch(new URL('/status.json', base))).json()) as StatusSnapshot;
    expect(snap.vigil.state).toBe('ready');
    expect(snap.archives).toHaveLength(1);
    expect(snap.archives[0].openSegment?.segment).toBeGreaterThanOrEqual(0);
    expect(snap.anomalies.threshold).toBeNull(); // the alert budget sets the thresholds
    expect(snap.anomalies.alertBudget).toBe(1);
    expect(snap.anomalies.learning.map((d) => d.detector)).toContain('off_hours');
    const res = await fetch(new URL('/status/events', base));
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const reader = res.body!.getReader();
    let text = '';
    await until('a status event', async () => {
      const { value } = await reader.read();
      text += Buffer.from(value ?? new Uint8Array()).toString();
      return text.includes('event: status\ndata: {') ? true : undefined;
    });
    await reader.cancel();
    const page = await fetch(base);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
  });

  it.skipIf(!haveChromium)('loads without console errors and shows an injected anomaly live, values as text', async () => {
    const profile = mkdtempSync(join(tmpdir(), 'vigil-chromium-'));
    // Kept after the run so the screenshot can be looked at (printed below).
    const shots = mkdtempSync(join(tmpdir(), 'vigil-status-shot-'));
    let browser: BrowserContext | undefined;
    try {
      // A fresh user-data dir (playwright passes it as --user-data-dir).
      browser = await chromium.launchPersistentContext(profile, {
        executablePath: CHROMIUM,
        headless: true,
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
        viewport: { width: 1280, height: 1000 },
        // Playwright's 30 s defaults (launch, navigation, each read) are the whole budget of a slow machine.
        timeout: 120_000,
      });
      const page = await browser.newPage();
      page.setDefaultTimeout(60_000);
      const problems: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`);
      });
      page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
      await page.goto(base);
      await until('the first render', async () => ((await page.textContent('#state')) === 'ready' ? true : undefined));
      await until('the live stream', async () => ((await page.getAttribute('#live', 'class')) === 'live on' ? true : undefined));

      // Traffic arrives while the page is open: four days of history, then a burst and a brute force
      // on an account whose name is markup.
      const plan = buildPlan({ seed: 3, users: 60, days: 4, scenarios: selectScenarios('rate-burst'), endAt: Date.now() });
      const burst = plan.scenarios[0];
      const hostile: SimEvent[] = Array.from({ length: 40 }, (_, i) => ({
        t: burst.to + 5 * 60_000 + i * 2_000,
        attrs: { 'client.address': '2.63.10.99', 'user.id': XSS_USER, 'http.request.method': 'POST', 'http.route': '/login', 'url.path': '/login', 'http.response.status_code': 401, 'http.server.request.duration': 0.2, 'http.response.body.size': 300, 'user_agent.original': '<script>alert(1)</script>' },
      }));
      await sendEvents([...plan.events, ...hostile], { endpoint, protocol: 'grpc' });

      const shown = await until('the injected burst on the page', async () => {
        const t = await page.textContent('#recent-list');
        return t?.includes(burst.key) && t.includes('client_rate') ? t : undefined;
      });
      expect(shown).toContain('records in ~1m vs baseline');
      await until('the alert history', async () => ((await page.textContent('#alerts-body'))?.includes(burst.key) ? true : undefined));
      await until('the markup account, as text', async () => ((await page.textContent('#recent-list'))?.includes(XSS_USER) ? true : undefined));
      // Runs in the page (browser globals, not Node's: the test project has no DOM types).
      expect(await page.evaluate(() => (globalThis as unknown as { __xss?: number }).__xss)).toBeUndefined();
      expect(await page.locator('#recent-list img').count()).toBe(0);
      expect(await page.textContent('#totals')).toMatch(/[\d,]+ accepted/);
      expect(await page.textContent('#archives')).toContain('open segment');

      // Counts read as numbers: thousands separators, a noun that agrees.
      expect(await page.textContent('#archives')).toMatch(/#[\d,]+: (1 record|(?!1 )\d{1,3}(,\d{3})* records),/);
      expect(await page.evaluate(LAYOUT_PROBLEMS)).toEqual([]);

      const shot = join(shots, 'status-page.png');
      await page.screenshot({ path: shot, fullPage: true });
      console.log(`status page screenshot: ${shot}`);
      // A phone: the page reflows into one column without horizontal scrolling.
      await page.setViewportSize({ width: 390, height: 844 });
      const fitsWidth = () => {
        const w = globalThis as unknown as { innerWidth: number; document: { documentElement: { scrollWidth: number } } };
        return w.document.documentElement.scrollWidth <= w.innerWidth + 1;
      };
      expect(await page.evaluate(fitsWidth)).toBe(true);
      expect(await page.evaluate(LAYOUT_PROBLEMS)).toEqual([]);
      for (const width of [768, 1024]) {
        await page.setViewportSize({ width, height: 900 });
        expect(await page.evaluate(LAYOUT_PROBLEMS), `at ${width} px`).toEqual([]);
      }
      await page.screenshot({ path: join(shots, 'status-page-phone.png'), fullPage: true });
      expect(problems).toEqual([]);
    } finally {
      await browser?.close();
      rmSync(profile, { recursive: true, force: true });
    }
  }, 180_000);
});
