// The condition syntax of detector `where:` (and `ratio:`), parsed once at
// start-up into a predicate over a record:
//
//   audit.action == "login" and audit.outcome == "failure"
//   http.response.status_code >= 500
//   http.route|url.path matches ["/admin*", "/internal/*"]
//   not (user.id in ["healthcheck", "probe"]) or client.address exists
//
// Comparisons: == != < <= > >= ; `in [..]`; `matches` (glob: * any run, ? one
// character; a string or a list); `exists`. Combine with and / or / not and
// parentheses (not binds tightest, then and, then or). Literals: "strings" or
// 'strings', numbers, true, false. A number literal compares numerically (a
// numeric string attribute counts as a number). A comparison whose attribute
// is absent is false, whatever the operator.
import type { Scalar } from '../../pipeline/record.js';
import { type AttributeView, type AttrRef, parseAttrRef } from './attr-ref.js';

export type Predicate = (view: AttributeView) => boolean;

export class ConditionError extends Error {
  constructor(message: string, readonly column: number) {
    super(`${message} (at column ${column})`);
    this.name = 'ConditionError';
  }
}

type Literal = string | number | boolean;
type Token =
  | { kind: 'punct'; text: string; pos: number }
  | { kind: 'op'; text: string; pos: number }
  | { kind: 'word'; text: string; pos: number }
  | { kind: 'literal'; value: Literal; pos: number }
  | { kind: 'end'; pos: number };

const KEYWORDS = new Set(['and', 'or', 'not', 'in', 'matches', 'exists', 'true', 'false']);

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const pos = i + 1;
    if ('()[],'.includes(c)) {
      out.push({ kind: 'punct', text: c, pos });
      i++;
      continue;
    }
    const two = src.slice(i, i + 2);
    if (['==', '!=', '<=', '>='].includes(two)) {
      out.push({ kind: 'op', text: two, pos });
      i += 2;
      continue;
    }
    if (c === '<' || c === '>') {
      out.push({ kind: 'op', text: c, pos });
      i++;
      continue;
    }
    if (c === '=') throw new ConditionError('use == to compare', pos);
    if (c === '"' || c === "'") {
      let j = i + 1;
      let s = '';
      while (j < src.length && src[j] !== c) {
        if (src[j] === '\\' && j + 1 < src.length) {
          const e = src[j + 1];
          s += e === 'n' ? '\n' : e === 't' ? '\t' : e;
          j += 2;
        } else s += src[j++];
      }
      if (j >= src.length) throw new ConditionError('unterminated string', pos);
      out.push({ kind: 'literal', value: s, pos });
      i = j + 1;
      continue;
    }
    const num = /^-?\d+(\.\d+)?([eE][+-]?\d+)?/.exec(src.slice(i));
    if (num) {
      out.push({ kind: 'literal', value: Number(num[0]), pos });
      i += num[0].length;
      continue;
    }
    if (/[A-Za-z_@]/.test(c)) {
      let j = i;
      while (j < src.length && /[A-Za-z0-9_.@:/|-]/.test(src[j])) j++;
      // net(attr) is one attribute reference.
      if (src[j] === '(' && /^[a-z_]+$/.test(src.slice(i, j))) {
        const close = src.indexOf(')', j);
        if (close < 0) throw new ConditionError(`missing ) after ${src.slice(i, j)}(`, pos);
        j = close + 1;
      }
      const text = src.slice(i, j);
      if (text === 'true' || text === 'false') out.push({ kind: 'literal', value: text === 'true', pos });
      else out.push({ kind: 'word', text, pos });
      i = j;
      continue;
    }
    throw new ConditionError(`unexpected character "${c}"`, pos);
  }
  out.push({ kind: 'end', pos: src.length + 1 });
  return out;
}

class Parser {
  private i = 0;
  constructor(private readonly tokens: Token[]) {}

  private peek(): Token {
    return this.tokens[this.i];
  }
  private next(): Token {
    return this.tokens[this.i++];
  }
  private isWord(text: string): boolean {
    const t = this.peek();
    return t.kind === 'word' && t.text === text;
  }
  private isPunct(text: string): boolean {
    const t = this.peek();
    return t.kind === 'punct' && t.text === text;
  }
  private expectPunct(text: string): void {
    const t = this.next();
    if (t.kind !== 'punct' || t.text !== text) throw new ConditionError(`expected "${text}"`, t.pos);
  }

  parse(): Predicate {
    const p = this.or();
    const t = this.peek();
    if (t.kind !== 'end') throw new ConditionError(`unexpected ${describe(t)}: join conditions with and / or`, t.pos);
    return p;
  }

  private or(): Predicate {
    const parts = [this.and()];
    while (this.isWord('or')) {
      this.next();
      parts.push(this.and());
    }
    return parts.length === 1
      ? parts[0]
      : (view) => {
          // A loop, not parts.some(p => p(view)): no closure per record.
          for (const p of parts) if (p(view)) return true;
          return false;
        };
  }

  private and(): Predicate {
    const parts = [this.not()];
    while (this.isWord('and')) {
      this.next();
      parts.push(this.not());
    }
    return parts.length === 1
      ? parts[0]
      : (view) => {
          for (const p of parts) if (!p(view)) return false;
          return true;
        };
  }

  private not(): Predicate {
    if (this.isWord('not')) {
      this.next();
      const inner = this.not();
      return (view) => !inner(view);
    }
    return this.primary();
  }

  private primary(): Predicate {
    if (this.isPunct('(')) {
      this.next();
      const inner = this.or();
      this.expectPunct(')');
      return inner;
    }
    const t = this.next();
    if (t.kind !== 'word' || KEYWORDS.has(t.text)) {
      throw new ConditionError(`expected an attribute name, got ${describe(t)}`, t.pos);
    }
    let ref: AttrRef;
    try {
      ref = parseAttrRef(t.text);
    } catch (err) {
      throw new ConditionError((err as Error).message, t.pos);
    }
    const op = this.next();
    if (op.kind === 'op') {
      const l = this.literal();
      if (typeof l === 'boolean' && op.text !== '==' && op.text !== '!=') throw new ConditionError(`${op.text} does not apply to true/false`, op.pos);
      return compare(ref, op.text, l);
    }
    if (op.kind === 'word' && op.text === 'exists') return (view) => ref.get(view) !== undefined;
    if (op.kind === 'word' && op.text === 'in') {
      const values = this.list();
      return (view) => {
        const v = ref.get(view);
        return v !== undefined && values.some((l) => equals(v, l));
      };
    }
    if (op.kind === 'word' && op.text === 'matches') {
      const patterns = this.isPunct('[') ? this.list() : [this.literal()];
      const res = patterns.map((p) => {
        if (typeof p !== 'string') throw new ConditionError(`matches takes glob strings, got ${String(p)}`, op.pos);
        return globToRegExp(p);
      });
      return (view) => {
        const v = ref.get(view);
        if (v === undefined) return false;
        const s = String(v);
        for (const re of res) if (re.test(s)) return true;
        return false;
      };
    }
    throw new ConditionError(`after ${t.text} expected ==, !=, <, <=, >, >=, in, matches or exists, got ${describe(op)}`, op.pos);
  }

  private literal(): Literal {
    const t = this.next();
    if (t.kind !== 'literal') {
      const hint = t.kind === 'word' ? ` (quote strings: "${t.text}")` : '';
      throw new ConditionError(`expected a value, got ${describe(t)}${hint}`, t.pos);
    }
    return t.value;
  }

  private list(): Literal[] {
    this.expectPunct('[');
    const values = [this.literal()];
    while (this.isPunct(',')) {
      this.next();
      values.push(this.literal());
    }
    this.expectPunct(']');
    return values;
  }
}

function describe(t: Token): string {
  switch (t.kind) {
    case 'end':
      return 'the end of the condition';
    case 'literal':
      return JSON.stringify(t.value);
    default:
      return `"${t.text}"`;
  }
}

function asNumber(v: Scalar): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v.trim() !== '') {
    const n = Number(v);
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

function equals(v: Scalar, l: Literal): boolean {
  if (typeof l === 'number') return asNumber(v) === l;
  if (typeof l === 'boolean') return v === l || v === String(l);
  return String(v) === l;
}

function compare(ref: AttrRef, op: string, l: Literal): Predicate {
  if (op === '==') return (view) => {
    const v = ref.get(view);
    return v !== undefined && equals(v, l);
  };
  if (op === '!=') return (view) => {
    const v = ref.get(view);
    return v !== undefined && !equals(v, l);
  };
  const test = (c: number) => (op === '<' ? c < 0 : op === '<=' ? c <= 0 : op === '>' ? c > 0 : c >= 0);
  if (typeof l === 'number') {
    return (view) => {
      const v = ref.get(view);
      const n = v === undefined ? undefined : asNumber(v);
      return n !== undefined && test(n - l);
    };
  }
  return (view) => {
    const v = ref.get(view);
    if (v === undefined) return false;
    const s = String(v);
    return test(s < l ? -1 : s > l ? 1 : 0);
  };
}

/** A glob (`*` any run, `?` one character) as an anchored RegExp. */
export function globToRegExp(glob: string): RegExp {
  let re = '^';
  for (const ch of glob) {
    if (ch === '*') re += '.*';
    else if (ch === '?') re += '.';
    else re += ch.replace(/[.+^${}()|[\]\\/]/g, '\\$&');
  }
  return new RegExp(`${re}$`, 's');
}

/** Parses a condition; throws ConditionError naming the column. */
export function parseCondition(src: string): Predicate {
  if (src.trim() === '') throw new ConditionError('empty condition', 1);
  return new Parser(tokenize(src)).parse();
}
