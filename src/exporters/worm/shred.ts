// Crypto-shredding (`vigil keys shred ARCHIVE --before DATE`): destroys the
// keyring's day keys (KEKs) whose every segment's retention has ended before
// DATE (and before now), so those records become unreadable everywhere, even
// in WORM copies that may not be deleted yet. The shredding is first recorded
// in the chain (a `shred` note, fsync'd), then the keys are destroyed: a crash
// in between leaves a record of an intent that re-running completes. The
// ciphertexts stay, and their signed SHA-256 keeps proving the archive intact.
import { open, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { ShredNote } from './entry.js';
import { Keyring, parseEncryptedFile } from './encryption.js';
import { groupListing, parseSegmentFileName } from './layout.js';
import type { Manifest } from './manifest.js';
import { LocalSource, readManifests } from './source.js';

export interface ShredPlan {
  /** KEKs to destroy, and the segments whose data keys they wrapped. */
  keks: string[];
  segments: number[];
  /** KEKs left alone, and why. */
  kept: { kek: string; reason: string }[];
}

/**
 * Which day keys may go: every segment wrapped by one must have a retain-until
 * at or before the cut-off (min(before, now)); today's key and keys of
 * unsealed segments stay. Pure.
 */
export function planShred(manifests: readonly Manifest[], keyring: { shreddedAt(id: string): string | undefined }, openKeks: ReadonlySet<string>, before: number, now: number): ShredPlan {
  const cutoff = Math.min(before, now);
  const byKek = new Map<string, Manifest[]>();
  for (const m of manifests) {
    const kek = m.encryption?.kek;
    if (!kek) continue;
    const list = byKek.get(kek) ?? [];
    list.push(m);
    byKek.set(kek, list);
  }
  const plan: ShredPlan = { keks: [], segments: [], kept: [] };
  for (const [kek, ms] of [...byKek].sort(([a], [b]) => a.localeCompare(b))) {
    if (keyring.shreddedAt(kek)) continue;
    const live = ms.find((m) => m.retain_until === null || Date.parse(m.retain_until) > cutoff);
    if (kek === Keyring.idFor(now) || openKeks.has(kek)) plan.kept.push({ kek, reason: 'still wraps the data key of a segment being written' });
    else if (live) plan.kept.push({ kek, reason: live.retain_until ? `segment ${live.segment} is retained until ${live.retain_until}` : `segment ${live.segment} has no retention configured` });
    else {
      plan.keks.push(kek);
      plan.segments.push(...ms.map((m) => m.segment));
    }
  }
  plan.segments.sort((a, b) => a - b);
  return plan;
}

/** KEKs named in the headers of unsealed segment files (the open segment, seals in progress). */
async function openSegmentKeks(directory: string): Promise<Set<string>> {
  const out = new Set<string>();
  for (const name of (await readdir(directory)).filter((n) => parseSegmentFileName(n)?.kind === 'open')) {
    const fh = await open(join(directory, name), 'r');
    try {
      const head = Buffer.alloc(4096);
      const { bytesRead } = await fh.read(head, 0, head.length, 0);
      const parsed = (() => {
        try {
          return parseEncryptedFile(head.subarray(0, bytesRead));
        } catch {
          return undefined; // a plaintext open segment
        }
      })();
      if (parsed?.header.kek) out.add(parsed.header.kek);
    } finally {
      await fh.close();
    }
  }
  return out;
}

export interface ShredResult extends ShredPlan {
  at: string;
}

/** What shredding would destroy now, read-only (the CLI asks before it takes the archive). */
export async function planArchiveShred(directory: string, keyring: Pick<Keyring, 'shreddedAt'>, before: number, now: number): Promise<ShredPlan> {
  const source = new LocalSource(directory);
  const manifests = [...(await readManifests(source, groupListing(await source.list()))).values()].map((x) => x.manifest);
  return planShred(manifests, keyring, await openSegmentKeks(directory), before, now);
}

/**
 * Plans, records (`append` puts the note in the chain and resolves once it is
 * durable) and shreds. The caller is the archive's one writer.
 */
export async function shredArchive(o: { directory: string; keyring: Keyring; before: number; now: number; append: (note: ShredNote) => Promise<void> }): Promise<ShredResult> {
  const plan = await planArchiveShred(o.directory, o.keyring, o.before, o.now);
  const at = new Date(o.now).toISOString();
  if (plan.keks.length === 0) return { ...plan, at };
  await o.append({
    kind: 'shred',
    keks: plan.keks,
    segments: plan.segments,
    before: new Date(o.before).toISOString(),
    detail: 'data keys destroyed after their retention ended (crypto-shredding); ciphertexts and their signed digests remain',
  });
  await o.keyring.shred(plan.keks, at);
  return { ...plan, at };
}
