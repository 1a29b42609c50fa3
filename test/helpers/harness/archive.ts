// What the archive holds and whether it is intact, asked the way an auditor
// asks: through `vigil query` and `vigil verify` (the real commands, as child
// processes). Works on a local directory or an s3://bucket/prefix.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { VIGIL_BIN } from './vigil.js';

export interface ArchivedRecords {
  /** test.id → how many times the archive holds it, and its audit.record_id. */
  byTestId: Map<string, { recordId: string; count: number }>;
  /** test.ids archived twice with different audit.record_ids. */
  idConflicts: string[];
  /** Records without a test.id. */
  foreign: number;
  total: number;
  /** `vigil query`'s exit code (1 = some entry did not match its hash). */
  exitCode: number | null;
  stderr: string;
}

interface JsonKv {
  key: string;
  value?: { stringValue?: string };
}

/** Dumps every record with `vigil query ARCHIVE` and indexes it by test.id. */
export async function queryArchive(archive: string, opts: { endpoint?: string | undefined; keyFile?: string | undefined } = {}): Promise<ArchivedRecords> {
  const args = [VIGIL_BIN, 'query', archive, ...(opts.endpoint ? ['--endpoint', opts.endpoint] : []), ...(opts.keyFile ? ['--key-file', opts.keyFile] : [])];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-8000)));
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  const out: ArchivedRecords = { byTestId: new Map(), idConflicts: [], foreign: 0, total: 0, exitCode: null, stderr: '' };
  for await (const line of createInterface({ input: child.stdout, crlfDelay: Infinity })) {
    if (line === '') continue;
    out.total++;
    const rec = JSON.parse(line) as { resourceLogs: { scopeLogs: { logRecords: { attributes?: JsonKv[] }[] }[] }[] };
    const attrs = rec.resourceLogs[0]?.scopeLogs[0]?.logRecords[0]?.attributes ?? [];
    let id: string | undefined;
    let recordId = '';
    for (const a of attrs) {
      if (a.key === 'test.id') id = a.value?.stringValue;
      else if (a.key === 'audit.record_id') recordId = a.value?.stringValue ?? '';
    }
    if (id === undefined) {
      out.foreign++;
      continue;
    }
    const seen = out.byTestId.get(id);
    if (!seen) out.byTestId.set(id, { recordId, count: 1 });
    else {
      seen.count++;
      if (seen.recordId !== recordId) out.idConflicts.push(id);
    }
  }
  out.exitCode = await exited;
  out.stderr = stderr;
  return out;
}

export interface VerifyOutcome {
  exitCode: number | null;
  /** The human report, as an operator reads it. */
  text: string;
  /** The same report as JSON (`--json`). */
  ok: boolean;
  breaks: { kind: string; detail: string }[];
  /** Recovery notes named in the report. */
  repairedTruncations: number;
  uncleanStops: number;
  records: { checked: number; valid: number };
  segments: number;
}

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [VIGIL_BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

interface VerifyJson {
  ok: boolean;
  archives: { findings: { severity: string; kind: string; detail: string }[]; records: { checked: number; valid: number }; segments: { valid: number } }[];
}

/** `vigil verify ARCHIVE -k KEY`, read twice: the text an operator sees and --json for the counts. */
export async function verifyArchive(archive: string, publicKey: string, opts: { endpoint?: string | undefined; keyFile?: string | undefined } = {}): Promise<VerifyOutcome> {
  const base = ['verify', archive, '--public-key', publicKey, ...(opts.endpoint ? ['--endpoint', opts.endpoint] : []), ...(opts.keyFile ? ['--key-file', opts.keyFile] : [])];
  const text = await run(base);
  const json = await run([...base, '--json']);
  let parsed: VerifyJson;
  try {
    parsed = JSON.parse(json.stdout) as VerifyJson;
  } catch {
    throw new Error(`vigil verify --json printed no report (exit ${json.code}): ${json.stderr || json.stdout}`);
  }
  const findings = parsed.archives.flatMap((a) => a.findings);
  return {
    exitCode: text.code,
    text: text.stdout + text.stderr,
    ok: parsed.ok,
    breaks: findings.filter((f) => f.severity === 'break').map((f) => ({ kind: f.kind, detail: f.detail })),
    // Counted in the text an operator reads, so that a recovery the report hid would show as missing here.
    repairedTruncations: (text.stdout.match(/: repaired truncation: /g) ?? []).length,
    uncleanStops: (text.stdout.match(/: unclean stop: /g) ?? []).length,
    records: parsed.archives.reduce((acc, a) => ({ checked: acc.checked + a.records.checked, valid: acc.valid + a.records.valid }), { checked: 0, valid: 0 }),
    segments: parsed.archives.reduce((n, a) => n + a.segments.valid, 0),
  };
}
