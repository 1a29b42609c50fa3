// "Did you mean": the closest key a schema knows, for an unknown key in a config.
import type { z } from 'zod';

/** Levenshtein distance, small strings only (config keys). */
export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length];
}

/** The known key closest to `key`, when close enough to be a likely typo or a shortened name. */
export function closest(key: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestScore = Infinity;
  for (const k of known) {
    // A known key that extends the typed one (`max_recv_msg_size` → `max_recv_msg_size_mib`) counts as close.
    const d = k.startsWith(key) && key.length >= 4 ? 1 : editDistance(key.toLowerCase(), k.toLowerCase());
    if (d < bestScore) [best, bestScore] = [k, d];
  }
  return best !== undefined && bestScore <= Math.max(2, Math.floor(key.length / 4)) ? best : undefined;
}

type Def = { type: string; [k: string]: unknown };
const defOf = (s: unknown): Def | undefined => (s as { _zod?: { def?: Def } })?._zod?.def;

/** The keys the object schema at `path` inside `schema` accepts (union of every branch that can be an object there). */
export function knownKeysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  const keys = new Set<string>();
  const visit = (s: unknown, i: number, depth: number): void => {
    const def = defOf(s);
    if (!def || depth > 64) return;
    switch (def.type) {
      case 'object': {
        const shape = def.shape as Record<string, unknown>;
        if (i === path.length) for (const k of Object.keys(shape)) keys.add(k);
        else if (String(path[i]) in shape) visit(shape[String(path[i])], i + 1, depth + 1);
        return;
      }
      case 'record':
        if (i < path.length) visit(def.valueType, i + 1, depth + 1);
        return;
      case 'array':
        if (i < path.length) visit(def.element, i + 1, depth + 1);
        return;
      case 'union':
        for (const o of def.options as unknown[]) visit(o, i, depth + 1);
        return;
      case 'intersection':
        visit(def.left, i, depth + 1);
        visit(def.right, i, depth + 1);
        return;
      case 'pipe':
        // z.preprocess(f, object) is pipe(transform, object); object.transform(f) is pipe(object, transform).
        visit(def.in, i, depth + 1);
        visit(def.out, i, depth + 1);
        return;
      case 'lazy':
        visit((def.getter as () => unknown)(), i, depth + 1);
        return;
      default:
        if (def.innerType) visit(def.innerType, i, depth + 1);
    }
  };
  visit(schema, 0, 0);
  return [...keys];
}
