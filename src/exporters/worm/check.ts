// `vigil check`: a compliance report over a config and its archive. Each check
// is a pure assessment of facts gathered elsewhere (the config, a verify
// report, statistics over the archived records), mapped to the controls it
// serves: SOC 2 CC7.2, PCI DSS v4.0 10.2 / 10.3 / 10.5 / 10.6, GDPR Art. 5 and 32,
// SEC 17a-4(f).
import { type JsonRecordLike, attributeText, queryArchive, type QueryStats } from './query.js';
import type { WormConfig } from './config.js';
import { describeRetention, retentionDays } from './retention.js';
import type { ArchiveSource } from './source.js';
import type { VerifyReport } from './verify.js';

export type CheckStatus = 'pass' | 'warn' | 'fail' | 'info';

export interface CheckItem {
  id: string;
  title: string;
  status: CheckStatus;
  summary: string;
  controls: string[];
  details?: Record<string, unknown>;
}

export interface ComplianceReport {
  generated_at: string;
  archive: string;
  config: string | undefined;
  status: 'pass' | 'warn' | 'fail';
  checks: CheckItem[];
}

// ---- record statistics ----------------------------------------------------------

/** The audit fields PCI DSS 10.2.2 asks of each event, and the attribute that carries each. */
export const AUDIT_FIELDS: { field: string; keys: string[]; requirement: string; required: boolean }[] = [
  { field: 'audit.record_id', keys: ['audit.record_id'], requirement: 'a stable identity for each record', required: true },
  { field: 'time', keys: [], requirement: 'date and time (10.2.2)', required: true },
  { field: 'audit.action', keys: ['audit.action'], requirement: 'type of event (10.2.2)', required: true },
  { field: 'audit.outcome', keys: ['audit.outcome'], requirement: 'success or failure indication (10.2.2)', required: true },
  { field: 'client.address', keys: ['client.address'], requirement: 'origination of the event (10.2.2)', required: true },
  { field: 'audit.resource', keys: ['audit.resource', 'http.route', 'url.path'], requirement: 'identity of the affected data or resource (10.2.2)', required: true },
  { field: 'user.id', keys: ['user.id'], requirement: 'user identification (10.2.2), where the request was authenticated', required: false },
];

export interface RecordStats {
  records: number;
  fieldPresent: Record<string, number>;
  withAnomalyScore: number;
  /** ingest time − event time, ms, for records that carry both. */
  skews: number[];
}

export function emptyStats(): RecordStats {
  return { records: 0, fieldPresent: Object.fromEntries(AUDIT_FIELDS.map((f) => [f.field, 0])), withAnomalyScore: 0, skews: [] };
}

/** Ingest time of a record: audit.ingested_at (ISO, or epoch ns/ms) if present, else when the archive appended it. */
function ingestTime(rec: JsonRecordLike, archivedAt: number): number {
  const v = attributeText(rec, 'audit.ingested_at');
  if (v !== undefined) {
    if (/^\d+$/.test(v)) {
      const n = Number(v);
      return n > 1e17 ? n / 1e6 : n > 1e14 ? n / 1e3 : n;
    }
    const t = Date.parse(v);
    if (Number.isFinite(t)) return t;
  }
  return archivedAt;
}

export function addRecord(stats: RecordStats, rec: JsonRecordLike, archivedAt: number): void {
  stats.records++;
  const log = rec.resourceLogs?.[0]?.scopeLogs?.[0]?.logRecords?.[0] as { timeUnixNano?: string } | undefined;
  const t = typeof log?.timeUnixNano === 'string' && log.timeUnixNano !== '0' ? Number(BigInt(log.timeUnixNano) / 1_000_000n) : 0;
  for (const f of AUDIT_FIELDS) {
    const present = f.field === 'time' ? t > 0 : f.keys.some((k) => {
      const v = attributeText(rec, k);
      return v !== undefined && v !== '' && v !== '-';
    });
    if (present) stats.fieldPresent[f.field]++;
  }
  if (attributeText(rec, 'anomaly.score') !== undefined) stats.withAnomalyScore++;
  if (t > 0) stats.skews.push(ingestTime(rec, archivedAt) - t);
}

/** Gathers statistics over the archived records in a window (sealed and unsealed). */
export async function collectRecordStats(source: ArchiveSource, from: number | undefined, to: number | undefined, limit?: number): Promise<RecordStats> {
  const stats = emptyStats();
  const q: QueryStats = { scanned: 0, matched: 0, segmentsRead: 0, segmentsSkipped: 0, damaged: [] };
  for await (const hit of queryArchive(source, { from, to, limit }, q)) {
    addRecord(stats, JSON.parse(hit.json) as JsonRecordLike, hit.archivedAt);
  }
  return stats;
}

// ---- assessments ------------------------------------------------------------------

const pct = (n: number, d: number) => (d === 0 ? 0 : Math.round((n / d) * 1000) / 10);

export function assessAuditFields(s: RecordStats): CheckItem {
  const controls = ['PCI DSS 10.2.1', 'PCI DSS 10.2.2', 'SOC 2 CC7.2'];
  if (s.records === 0) return { id: 'audit_fields', title: 'Required audit fields', status: 'warn', summary: 'no records in the archive (window) to check', controls };
  const shares = Object.fromEntries(AUDIT_FIELDS.map((f) => [f.field, pct(s.fieldPresent[f.field], s.records)]));
  const required = AUDIT_FIELDS.filter((f) => f.required);
  const worst = Math.min(...required.map((f) => shares[f.field]));
  const status: CheckStatus = worst < 90 ? 'fail' : worst < 99 ? 'warn' : 'pass';
  const lacking = required.filter((f) => shares[f.field] < 99).map((f) => `${f.field} ${shares[f.field]}%`);
  return {
    id: 'audit_fields',
    title: 'Required audit fields',
    status,
    summary: lacking.length ? `below 99% of ${s.records} records: ${lacking.join(', ')} (is the audit processor in the pipeline?)` : `all required fields on ≥99% of ${s.records} records`,
    controls,
    details: {
      records: s.records,
      share_percent: shares,
      fields: AUDIT_FIELDS.map((f) => ({ field: f.field, attributes: f.keys, requirement: f.requirement, required: f.required, share_percent: shares[f.field] })),
    },
  };
}

export function assessRetention(worm: WormConfig | undefined): CheckItem {
  const controls = ['PCI DSS 10.5.1', 'SOX 802', 'HIPAA 164.316(b)(2)', 'SEC 17a-4(a)', 'GDPR Art. 5(1)(e)'];
  const base = { id: 'retention', title: 'Retention', controls };
  if (!worm) return { ...base, status: 'info', summary: 'no worm exporter in the config: retention not known' };
  const r = worm.retention;
  if (!r) return { ...base, status: 'warn', summary: 'no retention configured: the local archive grows without a stated obligation; set retention to a preset (pci-dss, hipaa, sec-17a-4, sox) or a period' };
  const days = retentionDays(r);
  const details: Record<string, unknown> = { configured: describeRetention(r), effective_days: days, local_retention_days: worm.local_retention === undefined ? null : worm.local_retention / 86_400_000 };
  if (r.preset) {
    const atHand = r.preset.atHandDays;
    const localDays = worm.local_retention === undefined ? Infinity : worm.local_retention / 86_400_000;
    const summary = `${describeRetention(r)}: meets the ${r.preset.name} minimum of ${r.preset.years} year(s) (${r.preset.rule})`;
    if (atHand !== undefined && localDays < atHand && !worm.s3) {
      return { ...base, status: 'warn', summary: `${summary}; but only ${localDays}d kept at hand`, details };
    }
    return { ...base, status: 'pass', summary, details: { ...details, preset: r.preset.name, minimum_years: r.preset.years } };
  }
  if (days < 365) return { ...base, status: 'warn', summary: `${describeRetention(r)} is shorter than PCI DSS's 12 months; choose a preset to check against a regulation`, details };
  return { ...base, status: 'pass', summary: `${describeRetention(r)} (no regulation preset chosen: add one to have it checked)`, details };
}

export function assessObjectLock(worm: WormConfig | undefined): CheckItem {
  const controls = ['PCI DSS 10.3.2', 'PCI DSS 10.5.1', 'SEC 17a-4(f)', 'GDPR Art. 32(1)(b)'];
  const base = { id: 'object_lock', title: 'Write-once storage (S3 Object Lock)', controls };
  if (!worm) return { ...base, status: 'info', summary: 'no worm exporter in the config' };
  const sec = worm.retention?.preset?.name === 'sec-17a-4';
  if (!worm.s3) {
    return {
      ...base,
      status: sec ? 'fail' : 'warn',
      summary: `local disk only: tamper-evident (verify detects any change) but not tamper-proof${sec ? '; SEC 17a-4(f) requires non-rewriteable, non-erasable storage' : ''}: configure s3 with Object Lock`,
    };
  }
  const s3 = worm.s3;
  const details = { bucket: s3.bucket, prefix: s3.prefix, mode: s3.object_lock.mode, legal_hold: s3.object_lock.legal_hold, encryption: s3.encryption.mode };
  if (s3.allow_unlocked_bucket) return { ...base, status: 'fail', summary: `s3.allow_unlocked_bucket is set: objects in s3://${s3.bucket} may be deleted or overwritten`, details };
  if (s3.object_lock.mode === 'GOVERNANCE') {
    return { ...base, status: sec ? 'fail' : 'warn', summary: 'GOVERNANCE mode: users with s3:BypassGovernanceRetention can delete or shorten; COMPLIANCE lets nobody', details };
  }
  return { ...base, status: 'pass', summary: `COMPLIANCE mode on s3://${s3.bucket}/${s3.prefix}: nobody, root included, can delete or shorten retention`, details };
}

export function assessChain(reports: VerifyReport[] | undefined, error?: string): CheckItem {
  const controls = ['PCI DSS 10.3.4', 'PCI DSS 10.5', 'SOC 2 CC7.2', 'GDPR Art. 32(1)(b)'];
  const base = { id: 'chain', title: 'Archive integrity (hash chain, Merkle roots, signatures)', controls };
  if (!reports) return { ...base, status: 'fail', summary: error ?? 'not verified' };
  const segs = reports.reduce((a, r) => ({ valid: a.valid + r.segments.valid, checked: a.checked + r.segments.checked - r.segments.notLocal }), { valid: 0, checked: 0 });
  const recs = reports.reduce((a, r) => ({ valid: a.valid + r.records.valid, checked: a.checked + r.records.checked }), { valid: 0, checked: 0 });
  const breaks = reports.flatMap((r) => r.findings.filter((f) => f.severity === 'break'));
  const notes = reports.flatMap((r) => r.findings.filter((f) => f.severity === 'note' && f.kind !== 'unsealed'));
  const summary = `${segs.valid}/${segs.checked} segments valid, ${recs.valid.toLocaleString('en-US')}/${recs.checked.toLocaleString('en-US')} records valid${breaks.length ? `; ${breaks.length} break(s): ${[...new Set(breaks.map((b) => b.kind))].join(', ')}` : ''}${notes.length ? `; ${notes.length} note(s)` : ''}`;
  return {
    ...base,
    status: breaks.length ? 'fail' : 'pass',
    summary,
    details: { breaks: breaks.slice(0, 20), notes: notes.slice(0, 20), unsealed_records: reports.reduce((a, r) => a + (r.unsealed?.records ?? 0), 0) },
  };
}

export interface PseudonymisationFact {
  enabled: boolean;
  attributes: string[];
  method: string | undefined;
  where: string;
}

/** Looks through the config of `audit` processors for a pseudonymisation setting. */
export function findPseudonymisation(processors: { id: string; type: string; config: unknown }[]): PseudonymisationFact | undefined {
  for (const p of processors.filter((x) => x.type === 'audit')) {
    const hit = findKey(p.config, /^pseudonymi[sz](e|ation)$/i, 0);
    if (!hit) return { enabled: false, attributes: [], method: undefined, where: `processors.${p.id}` };
    const v = hit.value as Record<string, unknown> | boolean | null;
    if (typeof v === 'boolean') return { enabled: v, attributes: [], method: undefined, where: `processors.${p.id}.${hit.key}` };
    if (v && typeof v === 'object') {
      const attrs = Array.isArray(v.attributes) ? (v.attributes as unknown[]).map(String) : [];
      const trunc = v.ip_truncation;
      const enabled = v.enabled !== false && (attrs.length > 0 || !!trunc);
      const truncText = trunc && typeof trunc === 'object' ? Object.values(trunc as Record<string, unknown>).map((b) => `/${String(b)}`).join(' ') : trunc ? String(trunc) : '';
      return { enabled, attributes: attrs, method: truncText ? `IP truncation ${truncText}` : attrs.length ? 'keyed HMAC-SHA256' : undefined, where: `processors.${p.id}.${hit.key}` };
    }
    return { enabled: false, attributes: [], method: undefined, where: `processors.${p.id}.${hit.key}` };
  }
  return undefined;
}

function findKey(o: unknown, re: RegExp, depth: number): { key: string; value: unknown } | undefined {
  if (!o || typeof o !== 'object' || depth > 4) return undefined;
  for (const [k, v] of Object.entries(o as Record<string, unknown>)) {
    if (re.test(k)) return { key: k, value: v };
    const inner = findKey(v, re, depth + 1);
    if (inner) return { key: `${k}.${inner.key}`, value: inner.value };
  }
  return undefined;
}

export function assessPseudonymisation(fact: PseudonymisationFact | undefined, haveConfig: boolean): CheckItem {
  const controls = ['GDPR Art. 32(1)(a)', 'GDPR Art. 5(1)(c)', 'GDPR Art. 25'];
  const base = { id: 'pseudonymisation', title: 'Pseudonymisation of personal fields', controls };
  if (!haveConfig) return { ...base, status: 'info', summary: 'unknown without a config (--config)' };
  if (!fact) return { ...base, status: 'warn', summary: 'off: no audit processor in the config, so personal fields (user.id, client.address) are archived as received' };
  if (!fact.enabled) return { ...base, status: 'warn', summary: `off (${fact.where}): personal fields are archived in clear; enable pseudonymisation for user.id, client.address, session.id`, details: { ...fact } };
  return { ...base, status: 'pass', summary: `on (${fact.method ?? 'configured'}) for ${fact.attributes.join(', ') || 'client addresses'}`, details: { ...fact } };
}

export function assessClockSkew(s: RecordStats, toleranceMs = 300_000): CheckItem {
  const controls = ['PCI DSS 10.6.1', 'SOC 2 CC7.2'];
  const base = { id: 'clock_skew', title: 'Clock skew between record and ingest time', controls };
  if (s.skews.length === 0) return { ...base, status: 'info', summary: 'no records with a timestamp to compare' };
  const abs = s.skews.map(Math.abs).sort((a, b) => a - b);
  const q = (p: number) => abs[Math.min(abs.length - 1, Math.floor(p * abs.length))];
  const beyond = abs.filter((x) => x > toleranceMs).length;
  const future = s.skews.filter((x) => x < -60_000).length;
  const share = pct(beyond, abs.length);
  const details = { records: abs.length, median_ms: q(0.5), p99_ms: q(0.99), max_ms: abs[abs.length - 1], beyond_tolerance: beyond, beyond_tolerance_percent: share, future_dated: future, tolerance_ms: toleranceMs };
  const status: CheckStatus = share > 1 || future > 0 ? 'warn' : 'pass';
  return {
    ...base,
    status,
    summary: `median ${fmtMs(q(0.5))}, p99 ${fmtMs(q(0.99))}, max ${fmtMs(abs[abs.length - 1])}; ${share}% beyond ±${fmtMs(toleranceMs)}${future ? `; ${future} record(s) dated more than 1 min in the future (sender clock ahead?)` : ''}`,
    details,
  };
}

export function assessAnomalyScoring(s: RecordStats): CheckItem {
  const controls = ['SOC 2 CC7.2', 'PCI DSS 10.4.1'];
  const base = { id: 'anomaly_scoring', title: 'Anomaly scoring on archived records', controls };
  if (s.records === 0) return { ...base, status: 'info', summary: 'no records' };
  const share = pct(s.withAnomalyScore, s.records);
  return share === 0
    ? { ...base, status: 'info', summary: 'no record carries anomaly.score: add the anomaly processor to monitor for anomalies' }
    : { ...base, status: 'pass', summary: `${share}% of records scored (anomaly.score)` };
}

export function overall(checks: CheckItem[]): ComplianceReport['status'] {
  if (checks.some((c) => c.status === 'fail')) return 'fail';
  if (checks.some((c) => c.status === 'warn')) return 'warn';
  return 'pass';
}

function fmtMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 120_000) return `${(ms / 1000).toFixed(1)}s`;
  if (ms < 7_200_000) return `${Math.round(ms / 60_000)}m`;
  if (ms < 172_800_000) return `${(ms / 3_600_000).toFixed(1)}h`;
  return `${(ms / 86_400_000).toFixed(1)}d`;
}
