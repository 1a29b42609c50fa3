// `vigil replay [--config FILE] [--output FILE] [INPUT…]`: runs the configured
// logs pipeline's processors — the same code as live (`audit`, `anomaly`, …) —
// over files or stdin and writes enriched OTLP JSON lines (one
// ExportLogsServiceRequest per line, as the Collector's file exporter writes)
// to stdout or --output. No receivers, no exporters, no extensions: nothing
// listens, nothing is archived or forwarded.
//
// Each input line is recognised on its own: an OTLP JSON line (its records keep
// their resource and scope, and are processed as the one batch they were), or
// any other line — a JSON access-log object or a CLF/Combined line — which
// becomes a record whose body is that line (time left 0 for the processors to
// set from the line), carrying `log.file.name` and a `log.record.uid` of
// file:line so that identical lines stay distinct records, with ids stable
// from one replay to the next. Records keep their input order. Memory stays
// bounded: input is streamed, text lines go through in batches.
import { createReadStream, statSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import type { Writable } from 'node:stream';
import type { Command } from 'commander';
import { defaultRegistry } from '../components.js';
import { loadConfig } from '../config/load.js';
import { addConfigOptions, type ConfigCliOptions, configSources } from './config-options.js';
import type { ExportRequestMessage, ResourceLogsMessage, ScopeLogsMessage } from '../otlp/convert.js';
import { requestToBatch } from '../otlp/convert.js';
import { decodeJsonRequest, withJsonLine } from '../otlp/json.js';
import { Refusal } from '../pipeline/errors.js';
import type { KeyValue, LogBatch, ResourceContext, ScopeContext, VigilRecord } from '../pipeline/record.js';
import { findAttribute, Long, scalarOf, sharedAttribute } from '../pipeline/record.js';
import { type Pipeline, Service } from '../pipeline/service.js';
import { createLogger } from '../telemetry/logger.js';
import { Telemetry } from '../telemetry/metrics.js';
import { readLineBatches } from './lines.js';
import { UsageError } from './usage.js';
import { progressBar } from './progress.js';
import { descriptorSink, fileSink, regularFileDescriptor, type ReplaySink, streamSink } from './replay-sink.js';

/**
 * Text lines per batch. Small enough that a batch's enriched records die in
 * V8's young generation: at 1,024 they outlived it, and promoting them cost
 * (50,000 Combined lines) 4.3–4.8 s of CPU, ~73k page faults and 310 MB RSS,
 * against 2.8–3.4 s, ~40k and 200 MB at 128; 64 was no better.
 * bench/replay.bench.ts measures it.
 */
export const TEXT_BATCH = 128;
/** Longer lines are cut (with a warning): one bad line must not exhaust memory. */
export const MAX_LINE_BYTES = 16 * 1024 * 1024;

export interface ReplayOptions extends ConfigCliOptions {
  output?: string;
  pipeline?: string;
  inputs: string[];
}

export interface ReplayIo {
  stdin: NodeJS.ReadableStream;
  stdout: Writable;
  stderr: NodeJS.WriteStream;
}

export interface ReplaySummary {
  lines: number;
  records: number;
  otlpLines: number;
  status: Record<string, number>;
  warnings: number;
}

interface Input {
  name: string;
  path: string | undefined;
  size: number | undefined;
}

function resolveInputs(inputs: string[], output: string | undefined, stdin: NodeJS.ReadableStream): Input[] {
  if (inputs.length === 0 && (stdin as { isTTY?: boolean }).isTTY === true) {
    throw new UsageError('give the log files to replay, or pipe them in: vigil replay access.log, zcat access.log.gz | vigil replay');
  }
  const list = inputs.length === 0 ? ['-'] : inputs;
  const out = output === undefined ? undefined : resolve(output);
  return list.map((p) => {
    if (p === '-') return { name: 'stdin', path: undefined, size: undefined };
    let size: number;
    try {
      const st = statSync(p);
      if (!st.isFile()) throw new UsageError(`${p} is not a file`);
      size = st.size;
    } catch (err) {
      if (err instanceof UsageError) throw err;
      throw new UsageError(`cannot read ${p}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    if (out !== undefined && resolve(p) === out) throw new UsageError(`--output ${output} is also an input: write the output elsewhere`);
    return { name: basename(p), path: p, size };
  });
}

function choosePipeline(service: Service, wanted: string | undefined): Pipeline {
  const ids = service.pipelines.map((p) => p.id);
  const id = wanted ?? (ids.includes('logs') ? 'logs' : ids.length === 1 ? ids[0] : undefined);
  const p = service.pipelines.find((x) => x.id === id);
  if (!p) throw new UsageError(`${wanted ? `no pipeline "${wanted}"` : 'several pipelines and none named logs'}: choose one with --pipeline (${ids.join(', ')})`);
  return p;
}

/** One request per batch, grouped into runs of the same resource and scope so that input order is kept. */
export function orderedRequest(batch: LogBatch): ExportRequestMessage {
  const resourceLogs: ResourceLogsMessage[] = [];
  let rl: ResourceLogsMessage | undefined;
  let sl: ScopeLogsMessage | undefined;
  let lastResource: ResourceContext | undefined;
  let lastScope: ScopeContext | undefined;
  for (const rec of batch) {
    if (rec.resource !== lastResource) {
      rl = { resource: rec.resource.resource, scopeLogs: [], schemaUrl: rec.resource.schemaUrl };
      resourceLogs.push(rl);
      lastResource = rec.resource;
      lastScope = undefined;
    }
    if (rec.scope !== lastScope) {
      sl = { scope: rec.scope.scope, logRecords: [], schemaUrl: rec.scope.schemaUrl };
      rl!.scopeLogs.push(sl);
      lastScope = rec.scope;
    }
    sl!.logRecords.push(rec.log);
  }
  return { resourceLogs };
}

const OTLP_KEY = /"resource_?[Ll]ogs"\s*:/;

export async function replay(opts: ReplayOptions, io: ReplayIo): Promise<ReplaySummary> {
  const inputs = resolveInputs(opts.inputs, opts.output, io.stdin);
  const config = loadConfig(configSources(opts), defaultRegistry(), { mode: 'replay' });
  // Offline: no extension servers, no live state.
  config.service.extensions = [];
  const level = config.service.telemetry.logs.level === 'debug' ? 'debug' : 'warn';
  const logger = createLogger(level, config.service.telemetry.logs.encoding);
  const service = await Service.build(config, logger, new Telemetry({ processMetrics: false }), { withReceivers: false, withExporters: false });
  const pipeline = choosePipeline(service, opts.pipeline);
  const processors = service.processors.filter((p) => p.id.startsWith(`${pipeline.id}/`));
  const out = openOutput(opts.output, io.stdout);

  const summary: ReplaySummary = { lines: 0, records: 0, otlpLines: 0, status: {}, warnings: 0 };
  const warn = (msg: string) => {
    summary.warnings++;
    io.stderr.write(`vigil replay: ${msg}\n`);
  };
  const total = inputs.every((i) => i.size !== undefined) ? inputs.reduce((a, i) => a + i.size!, 0) : undefined;
  const bar = progressBar({ label: 'replay', totalBytes: total, stream: io.stderr });
  let bytes = 0;

  const write = async (batch: LogBatch): Promise<void> => {
    if (batch.length === 0) return;
    for (const r of batch) {
      const s = scalarOf(findAttribute(r.log.attributes, 'audit.parse_status'));
      if (typeof s === 'string') summary.status[s] = (summary.status[s] ?? 0) + 1;
    }
    summary.records += batch.length;
    await withJsonLine(orderedRequest(batch), (bytes) => out.write(bytes));
  };

  const deadline = new AbortController();
  let closeError: unknown;
  const started: typeof processors = [];
  try {
    for (const p of processors) {
      await p.instance.start?.(service);
      started.push(p);
    }
    for (const input of inputs) {
      const resource: ResourceContext = { resource: { attributes: [] }, schemaUrl: '' };
      const scope: ScopeContext = { scope: {}, schemaUrl: '' };
      // One attribute object for every record of the input: the encoders reuse its bytes (see sharedAttribute).
      const fileName = input.path === undefined ? undefined : sharedAttribute('log.file.name', input.name);
      let text: VigilRecord[] = [];
      const flush = async () => {
        if (text.length === 0) return;
        const batch = text;
        text = [];
        await write(await pipeline.process(batch));
      };
      const stream = input.path === undefined ? io.stdin : createReadStream(input.path, { highWaterMark: 1024 * 1024 });
      for await (const lines of readLineBatches(stream as AsyncIterable<Buffer>, MAX_LINE_BYTES, (n) => (bytes += n))) {
        for (const line of lines) {
          summary.lines++;
          if (line.truncated) warn(`${input.name}:${line.number}: line longer than ${MAX_LINE_BYTES} bytes, the rest of it dropped`);
          const t = line.text;
          if (t.trim() === '') continue;
          if (t.charCodeAt(0) === 123 /* { */ && OTLP_KEY.test(t)) {
            const batch = decodeOtlpLine(t, input, line.number, warn);
            if (batch) {
              await flush();
              summary.otlpLines++;
              await write(await pipeline.process(batch));
              bar.update(bytes, summary.records);
              continue;
            }
          }
          text.push(textRecord(t, input, line.number, resource, scope, fileName));
          if (text.length >= TEXT_BATCH) {
            await flush();
            bar.update(bytes, summary.records);
          }
        }
      }
      await flush();
      bar.update(bytes, summary.records);
    }
  } finally {
    bar.done();
    const timer = setTimeout(() => deadline.abort(new Error('shutdown deadline reached')), config.service.shutdown_timeout);
    timer.unref();
    for (const p of started.reverse()) {
      await p.instance.shutdown?.(deadline.signal).catch((err: unknown) => warn(`processor ${p.id} did not shut down cleanly: ${(err as Error)?.message ?? String(err)}`));
    }
    clearTimeout(timer);
    // A file is closed whatever happened; its error is thrown only when nothing else was.
    try {
      await out.close();
    } catch (err) {
      closeError = err;
    }
  }
  if (closeError !== undefined) throw closeError;
  return summary;
}

function openOutput(output: string | undefined, stdout: Writable): ReplaySink {
  if (output === undefined) {
    const fd = regularFileDescriptor(stdout);
    return fd === undefined ? streamSink(stdout) : descriptorSink(fd, false);
  }
  try {
    return fileSink(output);
  } catch (err) {
    throw new UsageError(`cannot write --output ${output}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/** The records of an OTLP JSON line, or undefined (with a warning) when it is not valid OTLP: it then goes on as text. */
function decodeOtlpLine(text: string, input: Input, n: number, warn: (m: string) => void): LogBatch | undefined {
  try {
    const decoded = decodeJsonRequest(text);
    const batch = requestToBatch(decoded.request);
    const rejected = decoded.rejected + batch.rejected;
    if (rejected > 0) warn(`${input.name}:${n}: ${rejected} log record(s) unusable and left out: ${decoded.rejectReason ?? batch.rejectReason}`);
    return batch.records;
  } catch (err) {
    if (!(err instanceof Refusal)) throw err;
    warn(`${input.name}:${n}: ${err.message}; kept as a text record`);
    return undefined;
  }
}

/** `fileName`: the input's shared `log.file.name` attribute, none for stdin. */
function textRecord(text: string, input: Input, n: number, resource: ResourceContext, scope: ScopeContext, fileName: KeyValue | undefined): VigilRecord {
  const uid: KeyValue = { key: 'log.record.uid', value: { stringValue: `${input.name}:${n}` } };
  return {
    resource,
    scope,
    log: { timeUnixNano: Long.UZERO, observedTimeUnixNano: Long.UZERO, body: { stringValue: text }, attributes: fileName === undefined ? [uid] : [fileName, uid] },
  };
}

function summaryLine(s: ReplaySummary, seconds: number, output: string | undefined): string {
  const status = Object.entries(s.status)
    .map(([k, v]) => `${v.toLocaleString('en-US')} ${k}`)
    .join(', ');
  const rate = seconds >= 0.5 ? `, ${Math.round(s.records / seconds).toLocaleString('en-US')} records/s` : '';
  return (
    `vigil replay: ${s.records.toLocaleString('en-US')} records from ${s.lines.toLocaleString('en-US')} lines` +
    `${status ? ` (${status})` : ''} in ${seconds.toFixed(1)}s${rate}` +
    `${output ? ` → ${output}` : ''}${s.warnings ? `; ${s.warnings} warning(s) above` : ''}\n`
  );
}

export function registerReplay(program: Command): void {
  const cmd = program
    .command('replay')
    .description('run the configured processors (audit, anomaly…) over past logs and write enriched OTLP JSON lines')
    .argument('[input...]', 'files to read (CLF/Combined, JSON access-log lines, or OTLP JSON lines; "-" or none: stdin)');
  addConfigOptions(cmd, 'Collector-style YAML config whose logs pipeline to run')
    .option('-o, --output <file>', 'write the enriched OTLP JSON lines here instead of stdout')
    .option('-p, --pipeline <id>', 'the pipeline to run when the config has several (default: logs)')
    .option('-q, --quiet', 'no summary line on stderr')
    .addHelpText(
      'after',
      `
Each line is read on its own: an OTLP JSON line (ExportLogsServiceRequest, as the
Collector's file exporter writes), a JSON access-log object, or a CLF/Combined
line. Records keep their input order. A progress bar shows on a terminal.

Examples:
  npx vigil replay access.log > enriched.jsonl
  npx vigil replay --config vigil.yaml -o enriched.jsonl /var/log/nginx/access.log.1 /var/log/nginx/access.log
  zcat access.log.*.gz | npx vigil replay -c vigil.yaml | jq -c '.resourceLogs[].scopeLogs[].logRecords[]'`,
    )
    .action(async (inputs: string[], opts: ConfigCliOptions & { output?: string; pipeline?: string; quiet?: boolean }) => {
      const t0 = performance.now();
      let summary: ReplaySummary;
      try {
        summary = await replay({ ...opts, inputs }, { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr });
      } catch (err) {
        // The reader of stdout went away (`| head`): stop quietly.
        if ((err as NodeJS.ErrnoException).code === 'EPIPE') return;
        throw err;
      }
      if (!opts.quiet) process.stderr.write(summaryLine(summary, (performance.now() - t0) / 1000, opts.output));
    });
}
