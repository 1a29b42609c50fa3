// The final account (a pure function): every record a client saw acknowledged
// must be in the archive and must have reached the downstream at least once.
// Duplicates are allowed (at-least-once) and counted; a record that comes back
// with a different audit.record_id is an error (ids must survive resends).

export interface Seen {
  recordId: string;
  count: number;
}

export interface Reconciliation {
  acked: number;
  /** Acknowledged records found in the archive. */
  archived: number;
  /** Acknowledged records delivered downstream at least once. */
  delivered: number;
  /** Acknowledged records missing from the archive or the downstream (must be 0). */
  lost: number;
  lostFromArchive: string[];
  lostDownstream: string[];
  /** Deliveries beyond the first (at-least-once resends). */
  duplicatesDownstream: number;
  /** Archive entries beyond the first for one record (a client resent a batch whose ack a crash swallowed). */
  duplicatesArchived: number;
  /** Records stored although their client never saw the ack (the crash came first): expected, not lost. */
  storedUnacked: number;
  /** test.ids whose audit.record_id differs between archive and downstream, or between copies. */
  idMismatches: string[];
}

const SAMPLE = 20;

export function reconcile(acked: ReadonlySet<string>, archive: ReadonlyMap<string, Seen>, downstream: ReadonlyMap<string, Seen> | undefined, conflicts: readonly string[] = []): Reconciliation {
  const lostFromArchive: string[] = [];
  const lostDownstream: string[] = [];
  const mismatches = new Set(conflicts);
  let archived = 0;
  let delivered = 0;
  let lost = 0;
  for (const id of acked) {
    const a = archive.get(id);
    const d = downstream?.get(id);
    if (a) archived++;
    else if (lostFromArchive.length < SAMPLE) lostFromArchive.push(id);
    if (downstream) {
      if (d) delivered++;
      else if (lostDownstream.length < SAMPLE) lostDownstream.push(id);
    }
    if (!a || (downstream && !d)) lost++;
    if (a && d && a.recordId !== d.recordId) mismatches.add(id);
  }
  let duplicatesDownstream = 0;
  for (const d of downstream?.values() ?? []) duplicatesDownstream += d.count - 1;
  let duplicatesArchived = 0;
  let storedUnacked = 0;
  for (const [id, a] of archive) {
    duplicatesArchived += a.count - 1;
    if (!acked.has(id)) storedUnacked++;
  }
  return {
    acked: acked.size,
    archived,
    delivered: downstream ? delivered : 0,
    lost,
    lostFromArchive,
    lostDownstream,
    duplicatesDownstream,
    duplicatesArchived,
    storedUnacked,
    idMismatches: [...mismatches].slice(0, SAMPLE),
  };
}

export function formatReconciliation(r: Reconciliation): string {
  const lines = [
    `acked       ${r.acked}`,
    `archived    ${r.archived}`,
    `delivered   ${r.delivered}`,
    `lost        ${r.lost}`,
    `duplicates  ${r.duplicatesDownstream} downstream, ${r.duplicatesArchived} in the archive (at least once; same audit.record_id)`,
    `stored, ack never seen  ${r.storedUnacked}`,
  ];
  if (r.lostFromArchive.length) lines.push(`  not archived, e.g. ${r.lostFromArchive.join(' ')}`);
  if (r.lostDownstream.length) lines.push(`  not delivered, e.g. ${r.lostDownstream.join(' ')}`);
  if (r.idMismatches.length) lines.push(`  audit.record_id changed for ${r.idMismatches.join(' ')}`);
  return lines.join('\n');
}
