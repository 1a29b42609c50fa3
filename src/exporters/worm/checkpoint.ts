// Checkpoints: signed statements of how far the archive reached, made to be
// kept somewhere else (the downstream SIEM, an auditor's notebook). Nothing on
// the archive's own disk can prove that its tail was not deleted; a checkpoint
// kept elsewhere can, the way Certificate Transparency's signed tree heads and
// CloudTrail's digests do.
//
// One self-contained line a human can paste:
//
//   vigil-checkpoint/1 archive=<id> segment=<n> state=sealed|open entries=<seq> records=<n>
//       head=<64 hex> manifest=<64 hex>|- time=<ISO> key=<key id> sig=<base64 Ed25519>
//
// (on one line). `entries` is the seq of the archive's last entry covered, `head`
// that entry's hash (it commits to every entry before it), `records` the log
// records up to it; a sealed checkpoint also names the SHA-256 of the segment's
// manifest. The signature covers every byte before ` sig=`.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileDurably } from '../../util/durable.js';
import { type VigilRecord, anyValue, millisToNanos } from '../../pipeline/record.js';
import { type PublicKeyEntry, type SigningKey, signBytes, verifyBytes } from './keys.js';

export const CHECKPOINT_EVENT = 'vigil.archive.checkpoint';
export const CHECKPOINT_ATTRIBUTE = 'vigil.archive.checkpoint';
export const CHECKPOINT_FILE = 'checkpoint.txt';
const TAG = 'vigil-checkpoint/1';

export interface Checkpoint {
  archive: string;
  segment: number;
  /** `sealed`: the segment's manifest is written; `open`: a point inside the open segment. */
  state: 'sealed' | 'open';
  /** Seq of the last entry covered (entries in the archive up to this point). */
  entries: number;
  /** Log records in the archive up to this point. */
  records: number;
  /** Hash of entry `entries` (the chain's genesis hash when there is none). */
  head: string;
  /** SHA-256 of the segment's manifest (sealed only). */
  manifest: string | undefined;
  /** When it was made (ISO). */
  time: string;
  key: string;
}

export interface SignedCheckpoint extends Checkpoint {
  text: string;
}

function body(c: Checkpoint): string {
  return (
    `${TAG} archive=${c.archive} segment=${c.segment} state=${c.state} entries=${c.entries} records=${c.records} ` +
    `head=${c.head} manifest=${c.manifest ?? '-'} time=${c.time} key=${c.key}`
  );
}

export function signCheckpoint(c: Omit<Checkpoint, 'key'>, key: SigningKey): SignedCheckpoint {
  const full: Checkpoint = { ...c, key: key.keyId };
  const text = body(full);
  return { ...full, text: `${text} sig=${signBytes(key.privateKey, Buffer.from(text))}` };
}

const TEXT_RE =
  /^vigil-checkpoint\/1 archive=(\S+) segment=(\d{1,12}) state=(sealed|open) entries=(\d{1,15}) records=(\d{1,15}) head=([0-9a-f]{64}) manifest=([0-9a-f]{64}|-) time=(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z) key=([0-9a-f]{16}) sig=([A-Za-z0-9+/=]{40,200})$/;

export class CheckpointFormatError extends Error {}

/** Parses a checkpoint line (surrounding whitespace ignored); throws CheckpointFormatError saying what is wrong. */
export function parseCheckpoint(text: string): SignedCheckpoint & { signature: string } {
  const t = text.trim();
  const m = TEXT_RE.exec(t);
  if (!m) {
    throw new CheckpointFormatError(
      t.startsWith(TAG) ? `not a well-formed checkpoint: ${t.slice(0, 120)}` : `a checkpoint starts with "${TAG} archive=…" (got: ${t.slice(0, 60) || 'nothing'})`,
    );
  }
  return {
    archive: m[1],
    segment: Number(m[2]),
    state: m[3] as Checkpoint['state'],
    entries: Number(m[4]),
    records: Number(m[5]),
    head: m[6],
    manifest: m[7] === '-' ? undefined : m[7],
    time: m[8],
    key: m[9],
    signature: m[10],
    text: t,
  };
}

export type CheckpointSignatureProblem = { kind: 'unknown key' | 'bad signature'; detail: string } | undefined;

export function checkCheckpointSignature(cp: SignedCheckpoint & { signature: string }, keys: ReadonlyMap<string, PublicKeyEntry>): CheckpointSignatureProblem {
  const key = keys.get(cp.key);
  if (!key) return { kind: 'unknown key', detail: `checkpoint signed by key ${cp.key}, which is not among the public keys given (${[...keys.keys()].join(', ') || 'none'})` };
  const signed = body(cp);
  // Only the text exactly as signed verifies: one spelled otherwise (a number with leading zeros,
  // a re-encoded signature) parses to the same fields, but is not the text the key signed.
  if (cp.text !== `${signed} sig=${cp.signature}` || Buffer.from(cp.signature, 'base64').toString('base64') !== cp.signature) {
    return { kind: 'bad signature', detail: `checkpoint text differs from the text key ${cp.key} signed (a field or the signature is spelled otherwise): ${cp.text.slice(0, 120)}` };
  }
  if (!verifyBytes(key.key, Buffer.from(signed), cp.signature)) return { kind: 'bad signature', detail: `checkpoint signature does not verify with key ${cp.key} (${key.source})` };
  return undefined;
}

/**
 * The newest checkpoints on the archive's own disk (`checkpoint.txt`: the last
 * sealed one and the last of the open segment, one line each). They let a
 * restart check the unsealed tail and count records without reading every
 * manifest; whoever can write the directory can replace them, so they are a
 * convenience for the writer and never a proof for an auditor.
 */
export class LocalCheckpoints {
  private sealed: SignedCheckpoint | undefined;
  private open: SignedCheckpoint | undefined;
  private writing: Promise<void> = Promise.resolve();

  constructor(private readonly directory: string) {}

  /** Reads the file; lines that do not parse or do not verify with `key` are ignored. */
  async load(key: SigningKey): Promise<{ sealed: SignedCheckpoint | undefined; open: SignedCheckpoint | undefined }> {
    const text = await readFile(join(this.directory, CHECKPOINT_FILE), 'utf8').catch(() => '');
    const keys = new Map([[key.keyId, { keyId: key.keyId, key: key.publicKey, source: 'signing key' }]]);
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      try {
        const cp = parseCheckpoint(line);
        if (checkCheckpointSignature(cp, keys)) continue;
        if (cp.state === 'sealed') this.sealed = cp;
        else this.open = cp;
      } catch {
        /* a damaged line: as if absent */
      }
    }
    return { sealed: this.sealed, open: this.open };
  }

  /** Keeps `cp` if it is newer than what is stored for its state; writes are serialised and durable. */
  record(cp: SignedCheckpoint): Promise<void> {
    const current = cp.state === 'sealed' ? this.sealed : this.open;
    if (current && (current.entries > cp.entries || (current.entries === cp.entries && current.segment > cp.segment))) return this.writing;
    if (cp.state === 'sealed') this.sealed = cp;
    else this.open = cp;
    // A seal that covers the open checkpoint supersedes it (its segment may later be pruned locally).
    if (this.open && this.sealed && this.sealed.entries >= this.open.entries) this.open = undefined;
    const text = `${[this.sealed?.text, this.open?.text].filter(Boolean).join('\n')}\n`;
    this.writing = this.writing.catch(() => undefined).then(() => writeFileDurably(this.directory, CHECKPOINT_FILE, Buffer.from(text)));
    return this.writing;
  }

  get latest(): { sealed: SignedCheckpoint | undefined; open: SignedCheckpoint | undefined } {
    return { sealed: this.sealed, open: this.open };
  }
}

/**
 * The checkpoint as a log record for the sibling exporters: event name
 * `vigil.archive.checkpoint`, the whole signed text in the attribute of the same
 * name (what an auditor pastes into `vigil verify --checkpoint`), a readable body.
 */
export function checkpointRecord(cp: SignedCheckpoint, exporterId: string): VigilRecord {
  const t = millisToNanos(Date.parse(cp.time));
  return {
    resource: { resource: { attributes: [{ key: 'service.name', value: anyValue('vigil') }] }, schemaUrl: '' },
    scope: { scope: { name: 'vigil.archive' }, schemaUrl: '' },
    log: {
      timeUnixNano: t,
      observedTimeUnixNano: t,
      severityNumber: 9,
      severityText: 'INFO',
      eventName: CHECKPOINT_EVENT,
      body: anyValue(
        `archive ${cp.archive} ${cp.state === 'sealed' ? `sealed segment ${cp.segment}` : `open segment ${cp.segment}`}: ${cp.entries} entries, ${cp.records} records, signed by key ${cp.key}`,
      ),
      attributes: [
        { key: CHECKPOINT_ATTRIBUTE, value: anyValue(cp.text) },
        { key: 'vigil.archive.id', value: anyValue(cp.archive) },
        { key: 'vigil.archive.segment', value: anyValue(cp.segment) },
        { key: 'vigil.exporter', value: anyValue(exporterId) },
        // Stable across re-deliveries, so a downstream can recognise duplicates.
        { key: 'audit.record_id', value: anyValue(`checkpoint-${cp.archive}-${cp.segment}-${cp.state}-${cp.entries}-${cp.time}`) },
      ],
    },
  };
}
