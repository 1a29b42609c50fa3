// `vigil query ARCHIVE`: records in a time window matching attribute filters,
// printed as OTLP JSON lines (one ExportLogsServiceRequest per record), for an audit: "everything this user did in March".
import type { Command } from 'commander';
import { parsePredicate, type Predicate, queryArchive, type QueryStats } from '../exporters/worm/query.js';
import { archiveProgress, openOrUsage, fromOption, TIME_WINDOW_HELP, timeWindowOrUsage, toOption } from './archive-args.js';
import { BufferedOutput } from './output.js';
import { fmtInt } from './progress.js';
import { collect, UsageError } from './usage.js';

interface QueryCliOptions {
  from?: string;
  to?: string;
  where: string[];
  limit?: string;
  sealedOnly?: boolean;
  endpoint?: string;
  keyFile?: string;
  keyring?: string;
}

export function registerQuery(program: Command): void {
  program
    .command('query')
    .description('print the archived records that match, as OTLP JSON lines')
    .argument('<archive>', 'archive directory, or s3://bucket/prefix')
    .addOption(fromOption())
    .addOption(toOption())
    .option('-w, --where <filter>', 'attr=value, attr!=value or attr~regex on record, resource or scope attributes (or body); repeat to AND', collect, [])
    .option('-n, --limit <n>', 'stop after N records')
    .option('--sealed-only', 'leave out records of the open (unsealed) segment')
    .option('--endpoint <url>', 'S3-compatible endpoint (credentials from the AWS environment)')
    .option('--key-file <file>', 'archive encryption key (exporters.worm.encryption.key_file) for encrypted segments')
    .option('--keyring <file>', 'its keyring, when not beside the key file (exporters.worm.encryption.keyring)')
    .addHelpText(
      'after',
      `
Each line is the record as OTLP JSON: byte for byte as archived in a v1 (json)
segment, rendered from the archived protobuf bytes in a v2 (proto) one. Records
whose content no longer matches its hash are left out and named on stderr.
${TIME_WINDOW_HELP}

Examples:
  npx vigil query ./vigil-data/archive --where user.id=alice --from 2026-03-01 --to 2026-04-01
  npx vigil query ./vigil-data/archive -w audit.outcome=failure -w audit.action=login --limit 100
  npx vigil query s3://audit-logs/vigil/ --endpoint http://127.0.0.1:7480 -w 'url.path~^/admin' | jq .`,
    )
    .action(async (archive: string, opts: QueryCliOptions) => {
      const { from, to } = timeWindowOrUsage(opts);
      let where: Predicate[];
      try {
        where = opts.where.map(parsePredicate);
      } catch (err) {
        throw new UsageError((err as Error).message);
      }
      let limit: number | undefined;
      if (opts.limit !== undefined) {
        limit = Number(opts.limit);
        if (!Number.isInteger(limit) || limit < 1) throw new UsageError(`--limit ${opts.limit}: expected a positive integer`);
      }
      const { sources, close } = await openOrUsage(archive, opts.endpoint, opts.keyFile, opts.keyring);
      const stats: QueryStats = { scanned: 0, matched: 0, segmentsRead: 0, segmentsSkipped: 0, damaged: [] };
      const out = new BufferedOutput();
      const progress = archiveProgress('querying');
      try {
        for (const source of sources) {
          const left = limit === undefined ? undefined : limit - stats.matched;
          if (left !== undefined && left <= 0) break;
          const local: QueryStats = { scanned: 0, matched: 0, segmentsRead: 0, segmentsSkipped: 0, damaged: [] };
          for await (const hit of queryArchive(source, { from, to, where, limit: left, unsealed: !opts.sealedOnly, onProgress: progress.onProgress }, local)) {
            if (!(await out.writeLine(hit.json))) return; // the reader went away (| head)
          }
          stats.scanned += local.scanned;
          stats.matched += local.matched;
          stats.segmentsRead += local.segmentsRead;
          stats.segmentsSkipped += local.segmentsSkipped;
          for (const d of local.damaged) {
            stats.damaged.push(d);
            process.stderr.write(`vigil: left out segment ${d.segment} entry ${d.index} of ${source.location}: its content does not match its hash (run vigil verify)\n`);
          }
        }
        await out.end();
      } finally {
        progress.done();
        close();
      }
      if (process.stderr.isTTY) {
        process.stderr.write(`${fmtInt(stats.matched)} record${stats.matched === 1 ? '' : 's'} matched (${stats.segmentsRead} segments read, ${stats.segmentsSkipped} outside the window)\n`);
      }
      process.exitCode = stats.damaged.length > 0 ? 1 : 0;
    });
}
