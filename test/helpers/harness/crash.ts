// The kill -9 harness. Vigil runs as a child process (otlp receiver → audit →
// worm archive [+ S3 Object Lock] + otlp_grpc with a persistent queue to a
// downstream that sometimes answers UNAVAILABLE) under load from clients that
// retry until acknowledged. It is killed with SIGKILL at moments chosen by a
// seeded PRNG and triggered by what it is doing:
//
//   append            under load, after a random delay
//   seal              when a seal intent appears in the archive (the segment is being compressed and signed)
//   s3-upload         when a manifest appears (its upload starts), after a random delay
//   downstream-retry  when the downstream has refused a delivery twice (the queue is retrying)
//
// and restarted at once. Some kills are followed by a torn tail: a partial
// entry appended to the open segment, as a power cut would leave a write that
// was never fsync'd (hence never acknowledged); kill -9 alone rarely tears a
// write, since the kernel keeps what write() returned. At the end the load
// stops, the downstream heals, Vigil is stopped with SIGTERM, and the archive
// is read back with `vigil verify` and `vigil query`.
import { existsSync, readdirSync, appendFileSync, watch, type FSWatcher, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { randomBytes } from 'node:crypto';
import { parseSegmentFileName } from '../../../src/exporters/worm/layout.js';
import { rng } from './access-log.js';
import { queryArchive, verifyArchive, type ArchivedRecords, type VerifyOutcome } from './archive.js';
import { Load, type ClientStats } from './client.js';
import { archiveDirOf, publicKeyOf, writeHarnessConfig, type HarnessConfigOptions, type HarnessS3 } from './config.js';
import { FlakyDownstream } from './downstream.js';
import { reconcile, type Reconciliation } from './reconcile.js';
import { VigilChild } from './vigil.js';
import { createLockedBucket } from './s3.js';
import { until, waitDelivered } from './wait.js';

export type KillMoment = 'append' | 'seal' | 's3-upload' | 'downstream-retry';

export interface CrashOptions {
  /** Work directory (created); the caller removes it. */
  dir: string;
  kills: number;
  seed: number;
  /** S3-compatible endpoint (credentials from the AWS environment); a bucket with Object Lock is created. */
  s3Endpoint?: string | undefined;
  /** The moments, in order; default: drawn from the PRNG among those available. */
  moments?: KillMoment[];
  /** Chance that a kill is followed by a torn tail (at least one when there are two kills or more). */
  tornTailRatio?: number;
  /** Share of deliveries the downstream refuses with UNAVAILABLE. */
  downstreamFailRatio?: number;
  grpcClients?: number;
  httpClients?: number;
  recordsPerRequest?: number;
  /** Encrypt the local segments (a fresh archive key in <dir>/keys); verify and query then use it. */
  encrypted?: boolean;
  log?: (line: string) => void;
}

export interface KillRecord {
  n: number;
  moment: KillMoment;
  /** Whether the kill landed in the moment it aimed at (seal unfinished, upload not done, retries under way). */
  hit: boolean;
  detail: string;
  uptimeMs: number;
  tornTail: boolean;
}

export interface CrashReport {
  seed: number;
  kills: KillRecord[];
  reconciliation: Reconciliation;
  verify: VerifyOutcome;
  verifyS3: VerifyOutcome | undefined;
  /** Sealed segments without an upload receipt at the end (S3 only; must be 0). */
  s3Backlog: number | undefined;
  finalExit: number | string;
  clients: ClientStats;
  downstream: { calls: number; refused: number; records: number; foreign: number };
  archive: { total: number; foreign: number; queryExit: number | null };
  durationMs: number;
}

const MOMENTS_LOCAL: KillMoment[] = ['append', 'seal', 'downstream-retry'];

/** A fresh 256-bit archive key, base64, 0600 (as `openssl rand -base64 32` would write it). */
function writeArchiveKey(dir: string): string {
  const file = join(dir, 'keys', 'archive-data.key');
  mkdirSync(join(dir, 'keys'), { recursive: true, mode: 0o700 });
  writeFileSync(file, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600 });
  return file;
}

export async function runCrashTrials(o: CrashOptions): Promise<CrashReport> {
  const started = Date.now();
  const log = o.log ?? (() => undefined);
  const r = rng(o.seed);
  mkdirSync(o.dir, { recursive: true });
  const downstream = await FlakyDownstream.start({ seed: o.seed ^ 0x5eed, failRatio: o.downstreamFailRatio ?? 0.1 });
  let s3: HarnessS3 | undefined;
  if (o.s3Endpoint) s3 = { endpoint: o.s3Endpoint, bucket: await createLockedBucket(o.s3Endpoint, 'vigil-crash'), prefix: 'crash/' };
  const encryptionKeyFile = o.encrypted ? writeArchiveKey(o.dir) : undefined;
  const cfg: HarnessConfigOptions = { dir: o.dir, downstream: downstream.address, s3, encryptionKeyFile };
  const config = writeHarnessConfig(cfg);
  const archiveDir = archiveDirOf(cfg);
  const logFile = join(o.dir, 'vigil.log');
  const start = () => VigilChild.start({ config, cwd: o.dir, logFile });

  let vigil: VigilChild | undefined = await start();
  let current = vigil;
  const per = o.recordsPerRequest ?? 20;
  const load = new Load([
    ...Array.from({ length: o.grpcClients ?? 2 }, (_, i) => ({ name: `g${i}`, transport: 'grpc' as const })),
    ...Array.from({ length: o.httpClients ?? 2 }, (_, i) => ({ name: `h${i}`, transport: 'http' as const })),
  ].map((c, i) => ({ ...c, target: () => vigil?.endpoints, recordsPerRequest: per, maxRequests: 100_000, seed: o.seed * 31 + i, maxRetryDelayMs: 250 })));
  const kills: KillRecord[] = [];
  const available: KillMoment[] = s3 ? [...MOMENTS_LOCAL, 's3-upload'] : MOMENTS_LOCAL;
  try {
    load.start();
    for (let n = 0; n < o.kills; n++) {
      const moment = o.moments?.[n % o.moments.length] ?? available[Math.floor(r() * available.length)];
      const effective: KillMoment = moment === 's3-upload' && !s3 ? 'seal' : moment;
      // Under load first: some requests (3 to 20, drawn) acknowledged by this incarnation.
      const before = load.acked.size;
      const requests = 3 + Math.floor(r() * 18);
      await until(() => load.acked.size >= before + requests * per || !current.running, 30_000, () => `load to be acknowledged after start ${n} (${load.acked.size - before} of ${requests * per} records)`);
      if (!current.running) throw new Error(`vigil exited on its own (${await current.exited}); see ${logFile}`);
      const bornAt = Date.now();
      const outcome = await killAt(effective, { vigil: current, archiveDir, downstream, random: r, acked: () => load.acked.size });
      vigil = undefined;
      const torn = (o.tornTailRatio ?? 0.3) > 0 && (r() < (o.tornTailRatio ?? 0.3) || (n === o.kills - 1 && o.kills >= 2 && !kills.some((k) => k.tornTail)));
      const tornTail = torn && tearTail(archiveDir, r);
      kills.push({ n, moment: effective, hit: outcome.hit, detail: outcome.detail, uptimeMs: Date.now() - bornAt, tornTail });
      log(`kill ${n + 1}/${o.kills}: ${effective}${outcome.hit ? '' : ' (missed)'}: ${outcome.detail}${tornTail ? '; torn tail appended' : ''}`);
      current = vigil = await start();
    }

    await load.finish(60_000);
    downstream.failRatio = 0;
    downstream.failNext(0);
    await waitDelivered(load.acked, downstream.deliveries, 90_000);
    if (s3) await until(async () => (await current.metric('vigil_worm_upload_backlog_segments')) === 0, 60_000, 'the S3 upload backlog to drain').catch(() => undefined);
    const finalExit = await current.terminate(60_000);
    vigil = undefined;

    const s3Backlog = s3 ? uploadBacklog(archiveDir) : undefined;
    const verify = await verifyArchive(archiveDir, publicKeyOf(cfg), { keyFile: encryptionKeyFile });
    const verifyS3 = s3 ? await verifyArchive(`s3://${s3.bucket}/${s3.prefix}`, publicKeyOf(cfg), { endpoint: s3.endpoint, keyFile: encryptionKeyFile }) : undefined;
    const archived: ArchivedRecords = await queryArchive(archiveDir, { keyFile: encryptionKeyFile });
    const reconciliation = reconcile(load.acked, archived.byTestId, downstream.deliveries, [...downstream.idConflicts, ...archived.idConflicts]);
    return {
      seed: o.seed,
      kills,
      reconciliation,
      verify,
      verifyS3,
      s3Backlog,
      finalExit,
      clients: load.stats(),
      downstream: { calls: downstream.calls, refused: downstream.refused, records: downstream.records, foreign: downstream.foreign },
      archive: { total: archived.total, foreign: archived.foreign, queryExit: archived.exitCode },
      durationMs: Date.now() - started,
    };
  } finally {
    await load.kill();
    if (vigil?.running) await vigil.kill9();
    if (current.running) await current.kill9();
    await downstream.stop();
  }
}

interface KillContext {
  vigil: VigilChild;
  archiveDir: string;
  downstream: FlakyDownstream;
  random: () => number;
  acked: () => number;
}

/** Waits for the moment, kills -9 (bounded: after 15 s it kills anyway, as a miss), and says whether it hit. */
async function killAt(moment: KillMoment, c: KillContext): Promise<{ hit: boolean; detail: string }> {
  const deadline = 15_000;
  switch (moment) {
    case 'append': {
      const delay = Math.round(50 + c.random() * 400);
      const acked = c.acked();
      await sleep(delay); // fault injection at a random moment, not synchronisation
      const during = c.acked() - acked;
      await c.vigil.kill9();
      return { hit: during > 0, detail: `after ${delay} ms of load (${during} records acknowledged meanwhile)` };
    }
    case 'seal':
    case 's3-upload': {
      const pattern = moment === 'seal' ? /^segment-(\d+)\.sealing\.json$/ : /^segment-(\d+)\.manifest\.json$/;
      const maxDelay = moment === 'seal' ? 20 : 60;
      let segment: string | undefined;
      let watcher: FSWatcher | undefined;
      const seen = new Promise<void>((resolve) => {
        watcher = watch(c.archiveDir, (_event, name) => {
          const m = name ? pattern.exec(name) : null;
          if (m && segment === undefined && existsSync(join(c.archiveDir, name!))) {
            segment = m[1];
            resolve();
          }
        });
      });
      const timedOut = await Promise.race([seen.then(() => false), sleep(deadline).then(() => true)]);
      watcher?.close();
      const delay = Math.round(c.random() * maxDelay);
      if (!timedOut) await sleep(delay);
      await c.vigil.kill9();
      if (timedOut || segment === undefined) return { hit: false, detail: `no ${moment === 'seal' ? 'seal' : 'manifest'} within ${deadline} ms: killed anyway` };
      if (moment === 'seal') {
        const unfinished = existsSync(join(c.archiveDir, `segment-${segment}.sealing.json`));
        return { hit: unfinished, detail: `${delay} ms into the seal of segment ${Number(segment)}: ${unfinished ? 'interrupted (intent left for start-up to finish)' : 'had already finished'}` };
      }
      const uploaded = existsSync(join(c.archiveDir, `segment-${segment}.uploaded.json`));
      return { hit: !uploaded, detail: `${delay} ms after segment ${Number(segment)} was sealed: ${uploaded ? 'its upload had completed' : 'its upload had not completed'}` };
    }
    case 'downstream-retry': {
      const refusals = 2 + Math.floor(c.random() * 4);
      const base = c.downstream.refused;
      c.downstream.failNext(refusals + 2);
      const ok = await until(() => c.downstream.refused >= base + refusals, deadline, 'downstream refusals').then(
        () => true,
        () => false,
      );
      const delay = Math.round(c.random() * 100);
      if (ok) await sleep(delay);
      await c.vigil.kill9();
      c.downstream.failNext(0);
      return { hit: ok, detail: ok ? `${delay} ms after refusal #${refusals} in a row from the downstream (deliveries being retried)` : 'the downstream saw no deliveries to refuse: killed anyway' };
    }
  }
}

/**
 * Appends a partial entry to the open segment, as a power cut in the middle of
 * a write would leave it. Only a segment still open (no seal intent) can hold
 * a torn write: a segment closed for sealing was fsync'd whole first.
 */
function tearTail(archiveDir: string, random: () => number): boolean {
  const names = readdirSync(archiveDir);
  const open = names
    .filter((n) => parseSegmentFileName(n)?.kind === 'open')
    .sort()
    .pop();
  if (!open || names.includes(`${open.slice(0, 'segment-'.length + 12)}.sealing.json`)) return false;
  // The beginning of an entry of the segment's format (docs/archive-format.md), cut short.
  let torn: Buffer;
  if (open.endsWith('.vlog')) {
    const frame = Buffer.concat([Buffer.alloc(4), randomBytes(32), Buffer.of(1)]);
    frame.writeUInt32BE(400, 0);
    torn = frame.subarray(0, 2 + Math.floor(random() * 35));
  } else {
    const hex = randomBytes(32).toString('hex');
    torn = Buffer.from(`{"hash":"${hex}","entry":{"seq":`.slice(0, 8 + Math.floor(random() * 70)));
  }
  appendFileSync(join(archiveDir, open), torn);
  return true;
}

function uploadBacklog(archiveDir: string): number {
  const names = new Set(readdirSync(archiveDir));
  let n = 0;
  for (const name of names) {
    const m = /^segment-(\d+)\.manifest\.json$/.exec(name);
    if (m && !names.has(`segment-${m[1]}.uploaded.json`)) n++;
  }
  return n;
}

/** What must hold after a run; an empty list means the run proved the promise. */
export function crashVerdict(r: CrashReport): string[] {
  const problems: string[] = [];
  const rec = r.reconciliation;
  if (rec.acked === 0) problems.push('no record was acknowledged: the run proved nothing');
  if (rec.lost > 0) problems.push(`${rec.lost} acknowledged records lost (archive: ${rec.lostFromArchive.join(' ')}; downstream: ${rec.lostDownstream.join(' ')})`);
  if (rec.idMismatches.length > 0) problems.push(`audit.record_id not stable for ${rec.idMismatches.join(' ')}`);
  if (r.finalExit !== 0) problems.push(`vigil exited with ${r.finalExit} on SIGTERM`);
  if (r.verify.exitCode !== 0 || !r.verify.ok) problems.push(`vigil verify exited ${r.verify.exitCode}:\n${r.verify.text}`);
  const recoveries = r.verify.repairedTruncations + r.verify.uncleanStops;
  if (recoveries !== r.kills.length) problems.push(`verify names ${recoveries} recoveries for ${r.kills.length} kills:\n${r.verify.text}`);
  const torn = r.kills.filter((k) => k.tornTail).length;
  if (r.verify.repairedTruncations < torn) problems.push(`verify names ${r.verify.repairedTruncations} repaired truncations for ${torn} torn tails:\n${r.verify.text}`);
  if (r.verifyS3 && (r.verifyS3.exitCode !== 0 || !r.verifyS3.ok)) problems.push(`vigil verify s3:// exited ${r.verifyS3.exitCode}:\n${r.verifyS3.text}`);
  if (r.s3Backlog) problems.push(`${r.s3Backlog} sealed segments never reached S3`);
  if (r.archive.queryExit !== 0) problems.push(`vigil query exited ${r.archive.queryExit}`);
  if (r.clients.permanent.length > 0) problems.push(`clients got permanent errors: ${r.clients.permanent.slice(0, 5).join('; ')}`);
  return problems;
}
