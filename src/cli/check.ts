// `vigil check [--config FILE] [ARCHIVE]`: a compliance report over the config
// and its archive, mapped to the controls each check serves. Human-readable by
// default, --json for machines; exit 1 when a check fails, 2 on usage errors.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { defaultRegistry } from '../components.js';
import { loadConfig } from '../config/load.js';
import {
  type CheckItem,
  type ComplianceReport,
  AUDIT_FIELDS,
  assessAnomalyScoring,
  assessAuditFields,
  assessChain,
  assessClockSkew,
  assessObjectLock,
  assessPseudonymisation,
  assessRetention,
  collectRecordStats,
  emptyStats,
  findPseudonymisation,
  overall,
} from '../exporters/worm/check.js';
import type { WormConfig } from '../exporters/worm/config.js';
import { assessEncryption } from '../exporters/worm/encryption-check.js';
import { publicKeyPathFor } from '../exporters/worm/keys.js';
import { verifyArchive, type VerifyReport } from '../exporters/worm/verify.js';
import { addConfigOptions, type ConfigCliOptions, configSources } from './config-options.js';
import { archiveProgress, openOrUsage, publicKeysOrUsage } from './archive-args.js';
import { collect, parseTimeArg, UsageError } from './usage.js';

interface CheckCliOptions extends ConfigCliOptions {
  publicKey: string[];
  from?: string;
  to?: string;
  json?: boolean;
  endpoint?: string;
}

export async function buildComplianceReport(archiveArg: string | undefined, opts: CheckCliOptions): Promise<ComplianceReport> {
  const config = loadConfig(configSources(opts), defaultRegistry());
  const wormEntry = [...config.exporters.values()].find((e) => e.factory.type === 'worm');
  const worm = wormEntry?.config as WormConfig | undefined;
  const archive = archiveArg ?? (worm ? resolve(worm.directory) : undefined);
  if (!archive) throw new UsageError('give an ARCHIVE (directory or s3://bucket/prefix), or a --config with a worm exporter');
  const from = parseTimeArg(opts.from, '--from');
  const to = parseTimeArg(opts.to, '--to');

  let keyFiles = opts.publicKey;
  if (keyFiles.length === 0 && worm) {
    const pub = publicKeyPathFor(resolve(worm.signing.key_file));
    if (existsSync(pub)) keyFiles = [pub];
  }
  let reports: VerifyReport[] | undefined;
  let chainError: string | undefined;
  const stats = emptyStats();
  const { sources, close } = await openOrUsage(archive, opts.endpoint, worm?.encryption?.key_file, worm?.encryption?.keyring);
  try {
    let keys;
    try {
      keys = await publicKeysOrUsage(keyFiles, archive);
    } catch (err) {
      chainError = `not verified: ${(err as Error).message}`;
    }
    if (keys) {
      reports = [];
      for (const source of sources) {
        const progress = archiveProgress('verifying');
        try {
          reports.push(await verifyArchive(source, { keys, from, to, onProgress: progress.onProgress, encryption: worm?.s3?.encryption }));
        } finally {
          progress.done();
        }
      }
    }
    for (const source of sources) {
      const s = await collectRecordStats(source, from, to);
      stats.records += s.records;
      stats.withAnomalyScore += s.withAnomalyScore;
      for (const f of AUDIT_FIELDS) stats.fieldPresent[f.field] += s.fieldPresent[f.field];
      stats.skews.push(...s.skews);
    }
  } finally {
    close();
  }
  const processors = [...config.processors.values()].map((p) => ({ id: p.id, type: p.factory.type, config: p.config }));
  const checks: CheckItem[] = [
    assessChain(reports, chainError),
    assessAuditFields(stats),
    assessRetention(worm),
    assessObjectLock(worm),
    assessEncryption(worm, reports),
    assessPseudonymisation(findPseudonymisation(processors), true),
    assessClockSkew(stats),
    assessAnomalyScoring(stats),
  ];
  return { generated_at: new Date().toISOString(), archive, config: config.source, status: overall(checks), checks };
}

const LABEL: Record<CheckItem['status'], string> = { pass: 'PASS', warn: 'WARN', fail: 'FAIL', info: 'INFO' };

export function formatCompliance(r: ComplianceReport): string {
  const out: string[] = ['Vigil compliance report', `  archive  ${r.archive}`, `  config   ${r.config}`, `  at       ${r.generated_at}`, ''];
  for (const c of r.checks) {
    out.push(`  ${LABEL[c.status]}  ${c.title}`);
    out.push(`        ${c.summary}`);
    if (c.id === 'audit_fields' && c.details?.fields) {
      for (const f of c.details.fields as { field: string; share_percent: number; requirement: string; required: boolean }[]) {
        out.push(`          ${f.field.padEnd(16)} ${f.share_percent.toFixed(1).padStart(5)}%  ${f.requirement}${f.required ? '' : ' (informational)'}`);
      }
    }
    out.push(`        controls: ${c.controls.join(' · ')}`);
  }
  const n = (s: CheckItem['status']) => r.checks.filter((c) => c.status === s).length;
  out.push('', `Result: ${r.status.toUpperCase()} (${n('fail')} failed, ${n('warn')} warnings, ${n('pass')} passed, ${n('info')} informational)`);
  return `${out.join('\n')}\n`;
}

export function registerCheck(program: Command): void {
  const cmd = program
    .command('check')
    .description('compliance report: audit fields, retention, Object Lock, encryption, chain verification, pseudonymisation, clock skew')
    .argument('[archive]', "archive directory or s3://bucket/prefix (default: the worm exporter's directory)");
  addConfigOptions(cmd, 'the Vigil config to assess')
    .option('-k, --public-key <file>', "archive public key (default: the .pub beside the config's signing key); repeat for rotated keys", collect, [])
    .option('--from <time>', 'assess records from this time (ISO date/time, or -24h)')
    .option('--to <time>', 'assess records before this time')
    .option('--json', 'print the report as JSON')
    .option('--endpoint <url>', 'S3-compatible endpoint (credentials from the AWS environment)')
    .addHelpText(
      'after',
      `
Controls: SOC 2 CC7.2 (monitoring), PCI DSS v4.0 10.2 (audit log content),
10.3 (protection), 10.5 (retention), 10.6 (time), GDPR Art. 5 and 32,
SEC 17a-4(f). Exit status: 0 no failures (warnings allowed), 1 a check failed, 2 usage error.

Examples:
  npx vigil check
  npx vigil check --config vigil.yaml
  npx vigil check --config vigil.yaml s3://audit-logs/vigil/ --endpoint http://127.0.0.1:7480 --json`,
    )
    .action(async (archive: string | undefined, opts: CheckCliOptions) => {
      const report = await buildComplianceReport(archive, opts);
      process.stdout.write(opts.json ? `${JSON.stringify(report, null, 2)}\n` : formatCompliance(report));
      process.exitCode = report.status === 'fail' ? 1 : 0;
    });
}
