// What verify reports: the kinds of break and note, and one finding (a break or a note, located).

export type BreakKind =
  | 'modified'
  | 'missing'
  | 'inserted'
  | 'reordered'
  | 'truncated'
  | 'bad signature'
  | 'unknown key'
  | 'gap'
  | 'unlocked object'
  | 'unencrypted object'
  | 'foreign file';
export type NoteKind =
  | 'repaired truncation'
  | 'unclean stop'
  | 'unsealed'
  | 'not held locally'
  | 'retention ended'
  | 'encrypted'
  | 'shredded'
  | 'key rotation'
  | 'recovered, unsigned before';

export interface Finding {
  severity: 'break' | 'note';
  kind: BreakKind | NoteKind;
  segment?: number;
  /** 0-based line of the entry within its segment. */
  index?: number;
  seq?: number;
  /** The file or S3 object concerned. */
  object?: string;
  detail: string;
  /** A rewritten run: its last entry (the run starts at `seq`; the first rewritten entry is somewhere in it). */
  runEndSeq?: number;
}

/** Reports one finding; the severity defaults to a break. */
export type Add = (f: Omit<Finding, 'severity'> & { severity?: Finding['severity'] }) => void;

/** A segment file whose signed SHA-256 differs although its entries read back intact. */
export const FILE_ALTERED = 'the segment file differs from the SHA-256 in its signed manifest (its entries read back intact: the compressed container was altered)';
