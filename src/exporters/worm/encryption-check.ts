// `vigil check`'s encryption item: what the config asks of the store, and what
// verify found each stored object to carry (mode and key id, per object class).
// A pure assessment, like the others in check.ts.
import type { CheckItem } from './check.js';
import type { WormConfig } from './config.js';
import { type EncryptionCensus, describeEncryption } from './sse.js';
import type { VerifyReport } from './verify.js';

export function mergeCensus(reports: readonly VerifyReport[] | undefined): EncryptionCensus | undefined {
  let out: EncryptionCensus | undefined;
  for (const r of reports ?? []) {
    if (!r.encryption) continue;
    out ??= {};
    for (const [cls, byLabel] of Object.entries(r.encryption)) {
      const into = (out[cls] ??= {});
      for (const [label, n] of Object.entries(byLabel)) into[label] = (into[label] ?? 0) + n;
    }
  }
  return out;
}

export function fmtCensus(c: EncryptionCensus): string {
  return Object.entries(c)
    .map(([cls, byLabel]) => `${cls}s: ${Object.entries(byLabel).map(([label, n]) => `${label} ×${n}`).join(', ')}`)
    .join('; ');
}

export function assessEncryption(worm: WormConfig | undefined, reports: readonly VerifyReport[] | undefined): CheckItem {
  const controls = ['PCI DSS 3.5.1', 'PCI DSS 10.3.2', 'SOC 2 CC6.1', 'GDPR Art. 32(1)(a)'];
  const base = { id: 'encryption', title: 'Encryption at rest with managed keys', controls };
  const census = mergeCensus(reports);
  const stored = census ? `; stored objects: ${fmtCensus(census) || 'none checked'}` : '';
  const unencrypted = (reports ?? []).flatMap((r) => r.findings.filter((f) => f.kind === 'unencrypted object'));
  const local = worm?.encryption ? `local segments encrypted (AES-256-GCM, a data key per segment wrapped by the key in ${worm.encryption.key_file})` : 'local segments in clear (set encryption.key_file)';
  if (!worm?.s3) {
    if (census && unencrypted.length) return { ...base, status: 'fail', summary: `${unencrypted.length} S3 object(s) carry no server-side encryption${stored}`, details: { objects: census } };
    return { ...base, status: worm?.encryption ? 'pass' : 'info', summary: `${local}; no S3 upload configured${stored}`, details: { local: worm?.encryption ? 'AES-256-GCM' : 'none', objects: census } };
  }
  const c = worm.s3.encryption;
  const configured = describeEncryption({ mode: c.mode, kmsKeyId: c.kms_key_id });
  const details = { configured: { mode: c.mode, kms_key_id: c.kms_key_id ?? null }, local: worm.encryption ? 'AES-256-GCM' : 'none', objects: census ?? null, unencrypted: unencrypted.slice(0, 20) };
  if (unencrypted.length) return { ...base, status: 'fail', summary: `${unencrypted.length} object(s) do not carry ${configured}${stored}`, details };
  if (c.mode === 'none') return { ...base, status: 'warn', summary: `s3.encryption.mode is none: objects rely on the bucket's default encryption; set sse-kms with a key you manage${stored}`, details };
  if (c.mode === 'sse-s3') return { ...base, status: 'pass', summary: `sse-s3 (keys managed by the store; sse-kms puts key use under your KMS policy and its audit log)${stored}`, details };
  return { ...base, status: 'pass', summary: `${configured} on every upload, probed at start-up; ${local}${stored}`, details };
}
