// `vigil export ARCHIVE`: every record of an archive (or of a --from/--to
// window), proven as it streams, as OTLP JSON lines or length-delimited protobuf
// requests, for auditors who want the records out of Vigil's format. Exit 0 all
// exported, 1 a break (nothing after it is written), 2 usage.
import type { Command } from 'commander';
import { ExportBreakError, exportRecords } from '../exporters/worm/export.js';
import { archiveProgress, fromOption, openOrUsage, publicKeysOrUsage, TIME_WINDOW_HELP, timeWindowOrUsage, toOption } from './archive-args.js';
import { BufferedOutput } from './output.js';
import { fmtInt } from './progress.js';
import { collect, UsageError } from './usage.js';

interface ExportCliOptions {
  format: string;
  from?: string;
  to?: string;
  output?: string;
  publicKey: string[];
  unsealed?: boolean;
  endpoint?: string;
  keyFile?: string;
  keyring?: string;
}

const FORMATS = ['otlp-json', 'otlp-proto'] as const;

/** A protobuf varint: the length prefix of a delimited message (as protobuf's writeDelimitedTo writes it). */
function varint(n: number): Buffer {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return Buffer.from(out);
}

export function registerExport(program: Command): void {
  program
    .command('export')
    .description('write the records of an archive (or of a time window), each proven first, as OTLP JSON lines or delimited protobuf')
    .argument('<archive>', 'archive directory, or s3://bucket/prefix')
    .option('-f, --format <format>', `output format: ${FORMATS.join(' | ')}`, 'otlp-json')
    .addOption(fromOption())
    .addOption(toOption())
    .option('-o, --output <file>', 'write to FILE instead of stdout')
    .option('-k, --public-key <file>', 'Ed25519 public key (PEM) the manifests must be signed with; repeat for rotated keys', collect, [])
    .option('--unsealed', "also export the open segment's records (chained to the signed head, not yet signed)")
    .option('--endpoint <url>', 'S3-compatible endpoint (credentials from the AWS environment)')
    .option('--key-file <file>', 'archive encryption key (exporters.worm.encryption.key_file) for encrypted segments')
    .option('--keyring <file>', 'its keyring, when not beside the key file (exporters.worm.encryption.keyring)')
    .addHelpText(
      'after',
      `
Records come out in chain order, one ExportLogsServiceRequest per record (its
resource and scope included), from archives of either format (v1 json, v2 proto):
  otlp-json   one OTLP/JSON request per line (what the Collector's file exporter writes)
  otlp-proto  each request's protobuf bytes preceded by their length as a varint
              (protobuf's delimited form: parseDelimitedFrom / decodeDelimited read it)
It verifies as it streams: a segment's records are written only after its manifest
signature (by a --public-key), its link to the previous manifest, every entry's
hash, seq and chain link, and its Merkle root have been checked. At the first
break it stops with exit 1 and names the segment: everything written before it
is proven, nothing after it is written. Run vigil verify for the full report.
${TIME_WINDOW_HELP}
A sealed segment whose signed time range lies wholly outside the window is not
read (not even decompressed): only its manifest is checked (signature, link to
the previous manifest, seqs), which carries the chain on to the next segment.
A segment that holds records in the window is proven whole, as above, and only
those records are written.
Exit status: 0 exported (also when no record is in the window), 1 a break, 2 usage error.

Examples:
  npx vigil export ./vigil-data/archive -k ./vigil-data/keys/archive.pub > records.otlp.jsonl
  npx vigil export ./vigil-data/archive -k archive.pub --from 2026-03-01 --to 2026-04-01 -o march.otlp.jsonl
  npx vigil export s3://audit-logs/vigil/ --endpoint http://127.0.0.1:7480 -k archive.pub --format otlp-proto -o records.pb`,
    )
    .action(async (archive: string, opts: ExportCliOptions) => {
      if (!(FORMATS as readonly string[]).includes(opts.format)) throw new UsageError(`--format ${opts.format}: expected ${FORMATS.join(' or ')}`);
      const proto = opts.format === 'otlp-proto';
      const window = timeWindowOrUsage(opts);
      const keys = await publicKeysOrUsage(opts.publicKey, archive);
      const { sources, close } = await openOrUsage(archive, opts.endpoint, opts.keyFile, opts.keyring);
      const out = BufferedOutput.to(opts.output);
      const progress = archiveProgress('exporting');
      let n = 0;
      let skipped = 0;
      try {
        for (const source of sources) {
          const records = exportRecords(source, {
            keys,
            unsealed: opts.unsealed,
            window,
            onSkipped: () => skipped++,
            onProgress: progress.onProgress,
            onNote: (_segment, text) => process.stderr.write(`vigil: ${text}\n`),
          });
          for await (const r of records) {
            const written = proto ? await writeDelimited(out, r.protobuf()) : await out.writeLine(r.json());
            if (!written) return; // the reader went away (| head)
            n++;
          }
        }
      } catch (err) {
        if (!(err instanceof ExportBreakError)) throw err;
        await out.end();
        process.stderr.write(`vigil: export stopped at a break after ${fmtInt(n)} records: ${err.message}\n`);
        process.exitCode = 1;
        return;
      } finally {
        progress.done();
        close();
      }
      await out.end();
      if (process.stderr.isTTY || opts.output) {
        const unread = skipped > 0 ? ` (${skipped} segment${skipped === 1 ? '' : 's'} outside the window not read)` : '';
        process.stderr.write(`${fmtInt(n)} record${n === 1 ? '' : 's'} exported${opts.output ? ` to ${opts.output}` : ''}${unread}\n`);
      }
      process.exitCode = 0;
    });
}

function writeDelimited(out: BufferedOutput, bytes: Uint8Array): Promise<boolean> {
  return out.write(varint(bytes.length), bytes);
}
