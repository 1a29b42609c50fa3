// Scoring the alerts of a simulation: reading them from the processor's output
// (alert records, alert ids on records), attributing them to injected attacks,
// the figures and targets; and a small end-to-end run through `vigil replay`
// (in process, default config) that counts a planted attack as detected.
import { describe, expect, it } from 'vitest';
import { defaultDetectorKeys, replayForAlerts } from '../helpers/alert-replay.js';
import { AlertLog, type Attack, attacksOf, type EmittedAlert, type JsonRequest, keyOfEvent, missedTargets, scoreRun, targetsFor } from '../../src/simulate/alert-score.js';
import type { OrganisationKnobs } from '../../src/simulate/organisation.js';
import { buildPlan, VIRTUAL_START } from '../../src/simulate/plan.js';
import { selectScenarios } from '../../src/simulate/scenarios.js';
import { DAY, HOUR, MINUTE } from '../../src/simulate/traffic.js';

const T0 = Date.UTC(2026, 2, 2);
const ns = (ms: number) => `${BigInt(ms) * 1_000_000n}`;
const str = (key: string, v: string) => ({ key, value: { stringValue: v } });

function alertRecord(ms: number, detector: string, key: string, extra: object[] = []) {
  return { timeUnixNano: ns(ms), eventName: 'vigil.anomaly', attributes: [str('anomaly.detector', detector), str('anomaly.key', key), str('audit.record_id', `anomaly-${detector}-${key}-${ms}`), ...extra] };
}
const request = (records: object[]): JsonRequest => ({ resourceLogs: [{ scopeLogs: [{ logRecords: records }] }] });

describe('alert-score: reading alerts', () => {
  it('counts every alert record as an alert when there are no alert ids (one per detector and key per cooldown)', () => {
    const log = new AlertLog();
    log.add(request([{ timeUnixNano: ns(T0), attributes: [str('user.id', 'u1')] }, alertRecord(T0 + 1000, 'off_hours', 'u1'), alertRecord(T0 + 2 * HOUR, 'off_hours', 'u1')]));
    const alerts = log.list();
    expect(alerts.map((a) => [a.detector, a.key, a.first - T0])).toEqual([
      ['off_hours', 'u1', 1000],
      ['off_hours', 'u1', 2 * HOUR],
    ]);
  });

  it('groups by anomaly.alert_id: one alert per episode, from its earliest record, whatever comes first in the batch', () => {
    const log = new AlertLog();
    const id = (v: string) => ({ key: 'anomaly.alert_id', value: { stringValue: v } });
    const ids = (...v: string[]) => ({ key: 'anomaly.alert_id', value: { arrayValue: { values: v.map((s) => ({ stringValue: s })) } } });
    log.add(request([{ timeUnixNano: ns(T0 + 5000), attributes: [id('e1')] }, alertRecord(T0 + 6000, 'download_bytes', 'u2', [id('e1')])]));
    log.add(request([{ timeUnixNano: ns(T0 + 9000), attributes: [ids('e1', 'e2')] }, alertRecord(T0 + 9000, 'client_rate', '1.2.3.4', [id('e2')]), alertRecord(T0 + 60_000, 'download_bytes', 'u2', [id('e1')])]));
    const alerts = log.list();
    expect(alerts.map((a) => [a.id, a.detector, a.key, a.first - T0])).toEqual([
      ['e1', 'download_bytes', 'u2', 5000],
      ['e2', 'client_rate', '1.2.3.4', 9000],
    ]);
    expect(alerts[0].times.map((t) => t - T0)).toEqual([5000, 6000, 9000, 60_000]);
  });

  it('keeps an alert id seen only on records, as detector "?", rather than losing it', () => {
    const log = new AlertLog();
    log.add(request([{ timeUnixNano: ns(T0 + 7000), attributes: [{ key: 'anomaly.alert_id', value: { stringValue: 'lone' } }] }]));
    expect(log.list().map((a) => [a.id, a.detector, a.first - T0])).toEqual([['lone', '?', 7000]]);
  });

  it('parses only lines that can hold alerts', () => {
    expect(AlertLog.mayHoldAlerts('{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"attributes":[]}]}]}]}')).toBe(false);
    expect(AlertLog.mayHoldAlerts('{"eventName":"vigil.anomaly"}')).toBe(true);
    expect(AlertLog.mayHoldAlerts('{"key":"anomaly.alert_id"}')).toBe(true);
  });

  it('finds the key a detector sees on an event', () => {
    const attrs = { 'url.path': '/x', 'user.id': 'u1', 'client.address': '1.2.3.4' };
    expect(keyOfEvent(['http.route|url.path'], attrs)).toBe('/x');
    expect(keyOfEvent(['user.id', 'client.address'], attrs)).toBe('u1, 1.2.3.4');
    expect(keyOfEvent(['net(client.address)'], attrs)).toBeUndefined();
    expect(keyOfEvent(['geo.country.iso_code'], attrs)).toBeUndefined();
  });
});

describe('alert-score: attribution and figures', () => {
  const from = T0;
  const to = T0 + 8 * DAY + 15 * HOUR;
  const atkFrom = T0 + 8 * DAY + 12 * HOUR;
  const attack: Attack = { name: 'rate-burst', detector: 'client_rate', key: '9.9.9.9', from: atkFrom, to: atkFrom + MINUTE, sideKeys: new Map([['download_bytes', new Map([['u1', [atkFrom + 20_000]]])]]) };
  const a = (id: string, detector: string, key: string, first: number, more: number[] = []): EmittedAlert => ({ id, detector, key, first, times: [first, ...more] });

  it('detects on the expected detector and key in the window, excuses side effects, counts the rest as false', () => {
    const alerts = [
      a('d1', 'off_hours', 'u9', T0 + 3 * HOUR), // day 1
      a('f1', 'download_bytes', 'u5', T0 + 2 * DAY), // ordinary, false
      a('hit', 'client_rate', '9.9.9.9', atkFrom + 12_000), // the detection, 12 s in
      a('again', 'client_rate', '9.9.9.9', atkFrom + 50 * MINUTE), // its expected alert again within the hour after it
      a('side', 'download_bytes', 'u1', atkFrom + 20_400), // raised by one of its records (u1 at +20 s)
      a('f2', 'download_bytes', 'u2', atkFrom + 20_000), // not one of its keys: false
      a('f3', 'client_rate', '9.9.9.9', atkFrom + 3 * HOUR), // its key, but long after: false
      a('f4', 'route_5xx', 'u1', atkFrom + 20_000), // u1 is a side key of download_bytes only: false
      a('f5', 'download_bytes', 'u1', atkFrom + 5 * MINUTE), // its key, but not raised by its record: false
    ];
    const s = scoreRun({ alerts, attacks: [attack], from, to, keys: 200 });
    expect(s.attacks).toEqual([{ name: 'rate-burst', detector: 'client_rate', key: '9.9.9.9', detected: true, ttdSeconds: 12 }]);
    expect(s.detected).toBe(1);
    expect(s.medianTtdSeconds).toBe(12);
    expect(s.day1).toBe(1);
    expect(s.falseAlerts.map((x) => x.id).sort()).toEqual(['d1', 'f1', 'f2', 'f3', 'f4', 'f5']);
    expect(s.sideEffects).toBe(1);
    expect(s.falseAfterDay1).toBe(5);
    expect(s.daysAfterDay1).toBeCloseTo(7 + 15 / 24, 9);
    expect(s.falsePerDay).toBeCloseTo(5 / (7 + 15 / 24), 9);
    expect(s.falsePer1000KeysPerDay).toBeCloseTo(s.falsePerDay * 5, 9);
    expect(s.worstDetector).toEqual({ detector: 'download_bytes', count: 3 });
    expect(missedTargets(s, targetsFor(200))).toEqual([]);
  });

  it('counts an attack as missed without its alert, and an episode that covers it as detecting it', () => {
    const none = scoreRun({ alerts: [a('x', 'client_rate', '8.8.8.8', atkFrom)], attacks: [attack], from, to, keys: 200 });
    expect(none.detected).toBe(0);
    expect(none.medianTtdSeconds).toBeUndefined();
    expect(missedTargets(none, targetsFor(200))).toEqual(['missed rate-burst (client_rate)']);
    // An episode opened before the attack (a false alert then) whose records go on into the attack.
    const ongoing = scoreRun({ alerts: [a('ep', 'client_rate', '9.9.9.9', atkFrom - 2 * HOUR, [atkFrom + 30_000])], attacks: [attack], from, to, keys: 200 });
    expect(ongoing.attacks[0]).toMatchObject({ detected: true, ttdSeconds: 30 });
    expect(ongoing.falseAfterDay1).toBe(1);
  });

  it('sets the targets by size: 2 a day up to 1,000 keys, 1 per 1,000 keys above, day 1 five times that', () => {
    expect(targetsFor(50)).toEqual({ maxTtdSeconds: 60, falsePerDay: 2, day1: 10 });
    expect(targetsFor(1_000)).toEqual({ maxTtdSeconds: 60, falsePerDay: 2, day1: 10 });
    expect(targetsFor(5_000)).toEqual({ maxTtdSeconds: 60, falsePerDay: 5, day1: 25 });
    const many = scoreRun({ alerts: Array.from({ length: 30 }, (_, i) => a(`n${i}`, 'off_hours', `u${i}`, T0 + i * 10 * MINUTE)), attacks: [], from, to, keys: 200 });
    expect(missedTargets(many, targetsFor(200))).toEqual(['30 alerts on day 1 > 10']);
  });
});

describe('alert-score: end to end through vigil replay', () => {
  const tiny: OrganisationKnobs = {
    name: 'tiny',
    description: 'a tiny organisation for the test',
    accounts: 50,
    requestsPerDay: 15,
    spread: 4,
    night: 0.01,
    weekendWorkers: 0.1,
    regions: [
      { region: 'europe', share: 0.7 },
      { region: 'americas', share: 0.3 },
    ],
    joiners: 0.1,
    days: 8,
  };

  it('counts a planted attack as detected, and the same alerts judged against a day without it as false', async () => {
    const scenarios = selectScenarios('rate-burst,exfiltration');
    const plan = buildPlan({ seed: 3, users: 0, organisation: tiny, days: tiny.days, scenarios, endAt: VIRTUAL_START + (tiny.days + 1) * DAY });
    const run = await replayForAlerts(plan.events);
    expect(run.records).toBeGreaterThanOrEqual(plan.events.length); // plus the alert records
    const attacks = attacksOf(plan.scenarios, plan.events, defaultDetectorKeys());
    const burst = attacks.find((x) => x.name === 'rate-burst')!;
    expect([...burst.sideKeys.get('client_rate')!.keys()]).toEqual([burst.key]);
    expect(burst.sideKeys.get('client_rate')!.get(burst.key)).toHaveLength(600);
    const s = scoreRun({ alerts: run.alerts, attacks, from: plan.from, to: plan.to, keys: tiny.accounts });
    expect(s.attacks.map((x) => [x.name, x.detected])).toEqual([
      ['rate-burst', true],
      ['exfiltration', true],
    ]);
    for (const x of s.attacks) expect(x.ttdSeconds!).toBeLessThanOrEqual(600);
    const planted = run.alerts.filter((x) => attacks.some((atk) => x.detector === atk.detector && x.key === atk.key && x.first >= atk.from - 60_000 && x.first <= atk.to));
    expect(planted.length).toBeGreaterThanOrEqual(2);
    for (const x of planted) expect(s.falseAlerts).not.toContain(x);
    // The same alerts against the attacks moved a day earlier: nothing detected, the planted alerts now false.
    const moved = attacks.map((atk) => ({ ...atk, from: atk.from - DAY, to: atk.to - DAY }));
    const wrong = scoreRun({ alerts: run.alerts, attacks: moved, from: plan.from, to: plan.to, keys: tiny.accounts });
    expect(wrong.detected).toBe(0);
    for (const x of planted) expect(wrong.falseAlerts).toContain(x);
  });
});
