// NAB (the Numenta Anomaly Benchmark, ../shared/nab): the `value` detector's
// score on 58 labelled streams, measured end to end the way a user would run
// it: the streams become OTLP JSON lines (one record per data row, the row's
// timestamp as the record's event time, one key per stream), `vigil replay`
// runs the anomaly processor over them with bench/nab/vigil-nab.yaml, and
// NAB's scorer (score.py, standard profile; the threshold is swept by the
// scorer as NAB does) reads the anomaly.score of every record.
// `npm run bench:nab`; set NAB_DIR to use another copy. Prints figures.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { packageRoot } from '../src/util/paths.js';

const NAB = process.env.NAB_DIR ?? resolve(process.cwd(), '../shared/nab');
if (!existsSync(join(NAB, 'score.py'))) {
  process.stdout.write(`nab: skipped, no NAB copy at ${NAB} (set NAB_DIR)\n`);
  process.exit(0);
}
const root = packageRoot();
const work = mkdtempSync(join(tmpdir(), 'vigil-nab-'));
const ROWS_PER_LINE = 2000;

try {
  // 1. The streams as OTLP JSON lines.
  const input = join(work, 'nab.otlp.jsonl');
  const out: string[] = [];
  let rows = 0;
  const categories = readdirSync(join(NAB, 'data'), { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();
  for (const category of categories) {
    for (const file of readdirSync(join(NAB, 'data', category)).filter((f) => f.endsWith('.csv')).sort()) {
      const series = `${category}/${file}`;
      const lines = readFileSync(join(NAB, 'data', series), 'utf8').trim().split('\n').slice(1);
      for (let i = 0; i < lines.length; i += ROWS_PER_LINE) {
        const logRecords = lines.slice(i, i + ROWS_PER_LINE).map((l) => {
          const [ts, v] = l.split(',');
          const ms = Date.parse(`${ts.trim().replace(' ', 'T')}Z`);
          return {
            timeUnixNano: `${BigInt(ms) * 1_000_000n}`,
            attributes: [
              { key: 'nab.series', value: { stringValue: series } },
              { key: 'nab.timestamp', value: { stringValue: ts.trim() } },
              { key: 'nab.value', value: { doubleValue: Number(v) } },
            ],
          };
        });
        rows += logRecords.length;
        out.push(JSON.stringify({ resourceLogs: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'nab' } }] }, scopeLogs: [{ scope: { name: 'nab' }, logRecords }] }] }));
      }
    }
  }
  writeFileSync(input, `${out.join('\n')}\n`);

  // 2. vigil replay with the NAB config.
  const scored = join(work, 'scored.otlp.jsonl');
  const config = join(root, 'bench/nab/vigil-nab.yaml');
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [join(root, 'bin/vigil.js'), 'replay', '--quiet', '--config', config, '--output', scored, input], { encoding: 'utf8' });
  const seconds = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`vigil replay failed (${r.status}): ${r.stderr}`);

  // 3. Scores per row, then NAB's scorer.
  let csv = 'file,timestamp,anomaly_score\n';
  let scoredRows = 0;
  for (const line of readFileSync(scored, 'utf8').split('\n')) {
    if (line === '') continue;
    for (const rl of JSON.parse(line).resourceLogs) {
      for (const sl of rl.scopeLogs) {
        for (const rec of sl.logRecords) {
          if (rec.eventName === 'vigil.anomaly') continue; // an alert record
          const a = new Map<string, { stringValue?: string; doubleValue?: number; intValue?: string }>(
            rec.attributes.map((kv: { key: string; value: object }) => [kv.key, kv.value]),
          );
          const s = a.get('anomaly.score');
          csv += `${a.get('nab.series')!.stringValue},${a.get('nab.timestamp')!.stringValue},${Number(s?.doubleValue ?? s?.intValue ?? 0).toFixed(6)}\n`;
          scoredRows++;
        }
      }
    }
  }
  if (scoredRows !== rows) throw new Error(`replay returned ${scoredRows} scored rows for ${rows} input rows`);
  const scores = join(work, 'scores.csv');
  writeFileSync(scores, csv);
  const s = spawnSync('python3', [join(NAB, 'score.py'), '--scores', scores, '--detector', 'vigil'], { encoding: 'utf8' });
  if (s.status !== 0) throw new Error(`score.py failed: ${s.stderr}`);
  const lines = s.stdout.trim().split('\n');
  process.stdout.write(`nab: ${rows.toLocaleString('en-US')} rows in ${categories.length} categories through \`vigil replay\` in ${seconds.toFixed(1)}s (${Math.round(rows / seconds).toLocaleString('en-US')} records/s, process start included)\n`);
  for (const l of lines.filter((x) => x.startsWith('# standard'))) process.stdout.write(`nab: ${l.slice(2)}\n`);
  for (const l of lines.filter((x) => x.startsWith('nab_'))) process.stdout.write(`nab: ${l}\n`);
  const standard = lines.find((l) => l.startsWith('nab_standard='));
  process.stdout.write(`NAB standard score (value detector, O(1) state per stream): ${standard?.split('=')[1] ?? '?'}  (published: ARTime 74.9, HTM 70.5, CAD OSE 69.9, KNN CAD 58.0, RCF 51.7, windowed Gaussian 39.6)\n`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
