// Runs a simulation through `vigil replay` in this process (src/cli/replay.ts:
// the same config loading, service build and processors as the command) on the
// embedded default config, with only the anomaly snapshot moved into a fresh
// directory (a first start, no baselines), and collects the alerts it emits.
// The events go in as OTLP JSON lines of 1,000 records, what `vigil simulate`
// sends per call, each processed as one batch. Shared by `npm run bench:alerts`
// and test/simulate (tests do not import bench/).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { stringify } from 'yaml';
import { replay } from '../../src/cli/replay.js';
import { readConfigFile } from '../../src/config/load.js';
import { batchToRequest } from '../../src/otlp/convert.js';
import { encodeJsonRequest } from '../../src/otlp/json.js';
import { anomalyConfigSchema, defaultDetectors } from '../../src/processors/anomaly/config.js';
import { AlertLog, type EmittedAlert, type JsonRequest } from '../../src/simulate/alert-score.js';
import { toRecord } from '../../src/simulate/send.js';
import type { SimEvent } from '../../src/simulate/traffic.js';

const RECORDS_PER_LINE = 1000;

type Raw = Record<string, any>;

/** The embedded default config with the anomaly snapshot in `dir` (nothing else changed). */
export function defaultConfigIn(dir: string): Raw {
  const raw = structuredClone(readConfigFile(undefined).raw) as Raw;
  raw.processors.anomaly = { ...raw.processors.anomaly, state: { ...raw.processors.anomaly?.state, directory: join(dir, 'anomaly') } };
  return raw;
}

/** Detector name → its key references, as the default config defines them. */
export function defaultDetectorKeys(): Map<string, string[]> {
  const cfg = anomalyConfigSchema.parse((readConfigFile(undefined).raw as Raw).processors?.anomaly ?? {});
  return new Map((cfg.detectors ?? defaultDetectors(cfg.sensitive_routes)).map((d) => [d.name, d.key]));
}

function* otlpLines(events: readonly SimEvent[]): Generator<Buffer> {
  for (let i = 0; i < events.length; i += RECORDS_PER_LINE) {
    yield Buffer.from(`${encodeJsonRequest(batchToRequest(events.slice(i, i + RECORDS_PER_LINE).map(toRecord)))}\n`);
  }
}

export interface ReplayAlerts {
  alerts: EmittedAlert[];
  records: number;
  /** What replay wrote on stderr (warnings). */
  stderr: string;
}

export async function replayForAlerts(events: readonly SimEvent[]): Promise<ReplayAlerts> {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-alerts-'));
  try {
    const config = join(dir, 'vigil.yaml');
    writeFileSync(config, stringify(defaultConfigIn(dir)));
    const log = new AlertLog();
    let pending = '';
    const take = (line: string) => {
      if (line !== '' && AlertLog.mayHoldAlerts(line)) log.add(JSON.parse(line) as JsonRequest);
    };
    const stdout = new Writable({
      decodeStrings: false,
      write(chunk: string | Buffer, _enc, done) {
        const lines = (pending + chunk.toString()).split('\n');
        pending = lines.pop() ?? '';
        try {
          lines.forEach(take);
          done();
        } catch (err) {
          done(err as Error);
        }
      },
    });
    let stderrText = '';
    const stderr = new Writable({
      write(chunk: Buffer | string, _enc, done) {
        stderrText += chunk.toString();
        done();
      },
    }) as unknown as NodeJS.WriteStream;
    const summary = await replay({ config, inputs: ['-'] }, { stdin: Readable.from(otlpLines(events)), stdout, stderr });
    take(pending);
    return { alerts: log.list(), records: summary.records, stderr: stderrText };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
