// Mutations of valid OTLP/JSON requests: structural ones on the parsed tree
// (replace any node by a hostile value, delete or rename a key, duplicate a key,
// bury a node in nesting) and textual ones on the serialised text (truncate,
// insert, delete). Plain data in, text out, so fast-check can shrink and replay.

export type JsonValue = null | boolean | number | string | JsonValue[] | { [k: string]: JsonValue };

export type JsonMutation =
  | { op: 'replace'; node: number; value: unknown }
  | { op: 'delete'; node: number }
  | { op: 'rename'; node: number; key: string }
  | { op: 'duplicate_key'; node: number; value: unknown }
  | { op: 'nest'; node: number; depth: number; inArray: boolean };

export type TextMutation = { op: 'truncate'; at: number } | { op: 'insert'; at: number; text: string } | { op: 'delete'; at: number; len: number };

/** An object that serialises with the given entries in order, repeated keys included (JSON.parse keeps the last). */
class DuplicateKeys {
  constructor(readonly entries: [string, unknown][]) {}
}

interface Slot {
  parent: Record<string, unknown> | unknown[];
  key: string | number;
}

/** Every position in the tree that holds a value, in pre-order. */
function slots(root: { value: unknown }): Slot[] {
  const out: Slot[] = [];
  const visit = (parent: Record<string, unknown> | unknown[], key: string | number) => {
    out.push({ parent, key });
    const v = (parent as Record<string | number, unknown>)[key];
    if (Array.isArray(v)) v.forEach((_, i) => visit(v, i));
    else if (v !== null && typeof v === 'object' && !(v instanceof DuplicateKeys)) for (const k of Object.keys(v)) visit(v as Record<string, unknown>, k);
  };
  visit(root as unknown as Record<string, unknown>, 'value');
  return out;
}

function clone<T>(v: T): T {
  return structuredClone(v);
}

function apply(root: { value: unknown }, m: JsonMutation): void {
  const all = slots(root);
  const s = all[m.node % all.length];
  const p = s.parent as Record<string | number, unknown>;
  switch (m.op) {
    case 'replace':
      p[s.key] = m.value;
      return;
    case 'delete':
      if (Array.isArray(s.parent)) s.parent.splice(s.key as number, 1);
      else if (s.parent !== root) delete p[s.key];
      return;
    case 'rename':
      if (!Array.isArray(s.parent) && s.parent !== root) {
        const v = p[s.key];
        delete p[s.key];
        p[m.key] = v;
      }
      return;
    case 'duplicate_key': {
      const v = p[s.key];
      if (v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof DuplicateKeys)) {
        const entries = Object.entries(v);
        const first = entries[0]?.[0] ?? 'resourceLogs';
        p[s.key] = new DuplicateKeys([...entries, [first, m.value]]);
      }
      return;
    }
    case 'nest': {
      let v = p[s.key];
      for (let i = 0; i < m.depth; i++) v = m.inArray ? [v] : { values: [v] };
      p[s.key] = v;
      return;
    }
  }
}

/** JSON text of a tree that may hold DuplicateKeys and values JSON.stringify would drop or reject. */
export function serialise(v: unknown): string {
  if (v instanceof DuplicateKeys) return `{${v.entries.map(([k, e]) => `${JSON.stringify(k)}:${serialise(e)}`).join(',')}}`;
  if (Array.isArray(v)) return `[${v.map(serialise).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    return `{${Object.entries(v)
      .map(([k, e]) => `${JSON.stringify(k)}:${serialise(e)}`)
      .join(',')}}`;
  }
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v); // NaN / Infinity: invalid JSON on purpose
  if (typeof v === 'bigint') return v.toString(); // beyond double precision, as a JSON number
  if (v === undefined) return 'null';
  return JSON.stringify(v);
}

export function applyTextMutation(text: string, m: TextMutation): string {
  const n = text.length;
  switch (m.op) {
    case 'truncate':
      return n === 0 ? text : text.slice(0, m.at % n);
    case 'insert': {
      const at = m.at % (n + 1);
      return text.slice(0, at) + m.text + text.slice(at);
    }
    case 'delete': {
      const at = m.at % (n + 1);
      return text.slice(0, at) + text.slice(at + m.len);
    }
  }
}

/** A mutated copy of a JSON tree (the input is left alone). */
export function mutateTree(tree: unknown, ms: readonly JsonMutation[]): unknown {
  const root = { value: clone(tree) };
  for (const m of ms) apply(root, m);
  return root.value;
}

/** The text of a mutated JSON tree, with text mutations applied after. */
export function mutateJson(tree: unknown, ms: readonly JsonMutation[], texts: readonly TextMutation[] = []): string {
  return texts.reduce(applyTextMutation, serialise(mutateTree(tree, ms)));
}
