// Steady load for a long time with one downstream outage in the middle: Vigil
// (same pipeline as the crash harness) takes paced load from clients that
// retry until acknowledged; its RSS, records in and out and the persistent
// queue are sampled; the downstream goes down for a while and comes back. At
// the end every acknowledged record must be archived and delivered.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { rssMiB } from '../lib/proc.js';
import { queryArchive, verifyArchive, type VerifyOutcome } from '../../test/helpers/harness/archive.js';
import { Load, type ClientStats } from '../../test/helpers/harness/client.js';
import { archiveDirOf, publicKeyOf, writeHarnessConfig, type HarnessConfigOptions } from '../../test/helpers/harness/config.js';
import { FlakyDownstream } from '../../test/helpers/harness/downstream.js';
import { reconcile, type Reconciliation } from '../../test/helpers/harness/reconcile.js';
import { VigilChild } from '../../test/helpers/harness/vigil.js';
import { waitDelivered } from '../../test/helpers/harness/wait.js';

export interface SteadyOptions {
  dir: string;
  durationMs: number;
  /** Offered load, records per second. */
  rate: number;
  seed: number;
  recordsPerRequest?: number;
  /** Clients per transport. */
  clientsPerTransport?: number;
  /** The outage, as fractions of the duration. */
  outage?: { from: number; to: number };
  sampleEveryMs?: number;
  log?: (line: string) => void;
}

export interface Sample {
  atMs: number;
  rssMiB: number;
  /** V8 heap in use and memory outside it (Buffers), from Vigil's own process metrics. */
  heapUsedMiB: number;
  externalMiB: number;
  recordsIn: number;
  recordsOut: number;
  queueBatches: number;
  acked: number;
  downstreamUp: boolean;
}

export interface SteadyReport {
  samples: Sample[];
  /** MiB; the halves show whether memory keeps climbing (the second half includes the drain after the outage). */
  rss: { first: number; last: number; min: number; max: number; firstHalfMax: number; secondHalfMax: number };
  peakQueueBatches: number;
  outage: { fromMs: number; toMs: number };
  recordsIn: number;
  recordsOut: number;
  reconciliation: Reconciliation;
  verify: VerifyOutcome;
  finalExit: number | string;
  clients: ClientStats;
  undeliveredAtDeadline: number;
  durationMs: number;
}

export async function runSteadySoak(o: SteadyOptions): Promise<SteadyReport> {
  const started = Date.now();
  const log = o.log ?? (() => undefined);
  mkdirSync(o.dir, { recursive: true });
  const per = o.recordsPerRequest ?? 100;
  const perTransport = o.clientsPerTransport ?? 2;
  const clients = 2 * perTransport;
  const outage = o.outage ?? { from: 0.4, to: 0.55 };
  const outageMs = { fromMs: Math.round(o.durationMs * outage.from), toMs: Math.round(o.durationMs * outage.to) };
  // Room for the whole outage twice over: the queue grows, nothing is refused.
  const queueSize = Math.max(1000, Math.ceil(((o.rate / per) * (outageMs.toMs - outageMs.fromMs)) / 1000) * 2);
  const downstream = await FlakyDownstream.start({ seed: o.seed });
  const cfg: HarnessConfigOptions = { dir: o.dir, downstream: downstream.address, segmentMaxBytes: '8MiB', segmentMaxAge: '10s', heartbeat: '30s', queueSize, consumers: 4 };
  const vigil = await VigilChild.start({ config: writeHarnessConfig(cfg), cwd: o.dir, logFile: join(o.dir, 'vigil.log') });
  const intervalMs = (per * clients * 1000) / o.rate;
  const load = new Load(
    Array.from({ length: clients }, (_, i) => ({
      name: `${i < perTransport ? 'g' : 'h'}${i}`,
      transport: i < perTransport ? ('grpc' as const) : ('http' as const),
      target: () => (vigil.running ? vigil.endpoints : undefined),
      recordsPerRequest: per,
      maxRequests: Math.ceil((o.rate * o.durationMs) / 1000 / per / clients) + 1,
      seed: o.seed * 17 + i,
      intervalMs,
      maxRetryDelayMs: 1000,
    })),
  );
  const samples: Sample[] = [];
  let peakQueue = 0;
  let rssMin = Infinity;
  let rssMax = 0;
  const halfMax = [0, 0];
  const sample = async (): Promise<Sample> => {
    const s: Sample = {
      atMs: Date.now() - started,
      rssMiB: rssMiB(vigil.pid),
      heapUsedMiB: ((await vigil.metric('vigil_nodejs_heap_size_used_bytes')) ?? 0) / 1048576,
      externalMiB: ((await vigil.metric('vigil_nodejs_external_memory_bytes')) ?? 0) / 1048576,
      recordsIn: (await vigil.metric('vigil_receiver_accepted_log_records_total')) ?? 0,
      recordsOut: (await vigil.metric('vigil_exporter_sent_log_records_total', { exporter: 'otlp_grpc' })) ?? 0,
      queueBatches: (await vigil.metric('vigil_exporter_queue_size', { exporter: 'otlp_grpc' })) ?? 0,
      acked: load.acked.size,
      downstreamUp: downstream.isUp,
    };
    rssMin = Math.min(rssMin, s.rssMiB);
    rssMax = Math.max(rssMax, s.rssMiB);
    const half = s.atMs < o.durationMs / 2 ? 0 : 1;
    halfMax[half] = Math.max(halfMax[half], s.rssMiB);
    peakQueue = Math.max(peakQueue, s.queueBatches);
    return s;
  };
  const fmt = (s: Sample) =>
    `t=${String(Math.round(s.atMs / 1000)).padStart(4)}s  rss=${s.rssMiB.toFixed(1).padStart(6)} MiB  heap=${s.heapUsedMiB.toFixed(1).padStart(6)} MiB  ext=${s.externalMiB.toFixed(1).padStart(5)} MiB  in=${String(s.recordsIn).padStart(8)}  out=${String(s.recordsOut).padStart(8)}  queue=${String(s.queueBatches).padStart(5)} batches  downstream ${s.downstreamUp ? 'up' : 'DOWN'}`;
  try {
    load.start();
    const first = await sample();
    samples.push(first);
    log(fmt(first));
    const every = o.sampleEveryMs ?? 30_000;
    let nextLine = every;
    // One tick a second: RSS extremes, the outage switches, a line every `every` ms.
    for (let t = 1000; t <= o.durationMs; t += 1000) {
      const wait = started + t - Date.now();
      if (wait > 0) await sleep(wait); // the soak's clock, not synchronisation
      const now = Date.now() - started;
      if (downstream.isUp && now >= outageMs.fromMs && now < outageMs.toMs) {
        await downstream.down();
        log(`t=${String(Math.round(now / 1000)).padStart(4)}s  downstream DOWN (outage until t=${Math.round(outageMs.toMs / 1000)}s)`);
      } else if (!downstream.isUp && now >= outageMs.toMs) {
        await downstream.up();
        log(`t=${String(Math.round(now / 1000)).padStart(4)}s  downstream back up`);
      }
      const s = await sample();
      if (now >= nextLine) {
        samples.push(s);
        log(fmt(s));
        nextLine += every;
      }
      if (!vigil.running) throw new Error(`vigil exited during the soak (${await vigil.exited}); see ${join(o.dir, 'vigil.log')}`);
    }
    if (!downstream.isUp) await downstream.up();
    await load.finish(60_000);
    const undelivered = await waitDelivered(load.acked, downstream.deliveries, 300_000);
    const last = await sample();
    samples.push(last);
    log(`${fmt(last)}  (load stopped, queue drained)`);
    const finalExit = await vigil.terminate(60_000);
    const verify = await verifyArchive(archiveDirOf(cfg), publicKeyOf(cfg));
    const archived = await queryArchive(archiveDirOf(cfg));
    const reconciliation = reconcile(load.acked, archived.byTestId, downstream.deliveries, [...downstream.idConflicts, ...archived.idConflicts]);
    return {
      samples,
      rss: { first: samples[0].rssMiB, last: last.rssMiB, min: rssMin, max: rssMax, firstHalfMax: halfMax[0], secondHalfMax: halfMax[1] },
      peakQueueBatches: peakQueue,
      outage: outageMs,
      recordsIn: last.recordsIn,
      recordsOut: last.recordsOut,
      reconciliation,
      verify,
      finalExit,
      clients: load.stats(),
      undeliveredAtDeadline: undelivered,
      durationMs: Date.now() - started,
    };
  } finally {
    await load.kill();
    if (vigil.running) await vigil.kill9();
    await downstream.stop();
  }
}

export function steadyVerdict(r: SteadyReport): string[] {
  const problems: string[] = [];
  const rec = r.reconciliation;
  if (rec.acked === 0) problems.push('no record was acknowledged');
  if (rec.lost > 0) problems.push(`${rec.lost} acknowledged records lost`);
  if (rec.idMismatches.length > 0) problems.push(`audit.record_id not stable for ${rec.idMismatches.join(' ')}`);
  if (r.finalExit !== 0) problems.push(`vigil exited with ${r.finalExit} on SIGTERM`);
  if (r.verify.exitCode !== 0 || !r.verify.ok) problems.push(`vigil verify exited ${r.verify.exitCode}:\n${r.verify.text}`);
  if (r.peakQueueBatches === 0) problems.push('the persistent queue never grew: the outage did not happen');
  if (r.clients.permanent.length > 0) problems.push(`clients got permanent errors: ${r.clients.permanent.slice(0, 5).join('; ')}`);
  return problems;
}
