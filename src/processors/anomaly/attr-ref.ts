// Attribute references, as written in detector keys, signals and conditions:
//   http.route                 the record's attribute (else the resource's)
//   http.route|url.path        the first of these that is present
//   net(client.address)        the address's network: IPv4 /24, IPv6 /48
import { isIP } from 'node:net';
import { type AnyValue, findAttribute, scalarOf, type Scalar, type VigilRecord } from '../../pipeline/record.js';

export interface AttrRef {
  /** As written, for messages and reasons. */
  readonly text: string;
  get(view: AttributeView): Scalar | undefined;
}

/** A resource attribute looked up for a record: `gen` says which record (entries are reused, not reallocated). */
interface Seen {
  gen: number;
  value: AnyValue | null | undefined;
}

/** Index entries kept across records at most (distinct attribute names); beyond, the index starts over. */
const MAX_INDEXED_NAMES = 4096;

/**
 * One record's attributes as the detectors read them: a record attribute wins
 * over a resource attribute of the same name (and the first of a repeated name
 * over the others).
 *
 * A record's attributes are scanned for each name read, with no index: the
 * names are mostly the same interned strings (a pointer compare each), a
 * record has a few dozen of them, and a detector reads ~10 distinct names, so
 * the scans cost less than indexing every attribute of every record in a map,
 * which was a fifth of the processor's time (the records of a stream rarely
 * share one layout: user, route or geo attributes come and go).
 */
export class AttributeView {
  private rec: VigilRecord | undefined;
  /** How many attributes the record had when the view was pointed at it: appended ones are not read. */
  private count = 0;
  private readonly fromResource = new Map<string, Seen>();
  private gen = 0;

  /** Points the view at another record (the view object is reused: no allocation per record). */
  reset(rec: VigilRecord): this {
    this.rec = rec;
    this.count = rec.log.attributes.length;
    if (++this.gen % 1024 === 0 && this.fromResource.size > MAX_INDEXED_NAMES) this.fromResource.clear();
    return this;
  }

  /** Lets go of the record and of the resource values remembered for it (called after each batch: an idle processor holds none of its records). */
  release(): void {
    this.rec = undefined;
    this.count = 0;
    this.gen++;
    for (const seen of this.fromResource.values()) seen.value = undefined;
  }

  /** Changes whenever the view is pointed at a record or released: what per-record memos are keyed on. */
  get generation(): number {
    return this.gen;
  }

  get record(): VigilRecord {
    return this.rec!;
  }

  /** The record's first attribute of that name (among those it had when the view was reset), or -1. */
  private indexOf(name: string): number {
    const attrs = this.rec!.log.attributes;
    for (let i = 0; i < this.count; i++) if (attrs[i].key === name) return i;
    return -1;
  }

  get(name: string): Scalar | undefined {
    const at = this.indexOf(name);
    if (at >= 0) return scalarOf(this.rec!.log.attributes[at].value);
    // Not on the record: the resource's attribute, remembered (also when absent) for the next reader.
    const gen = this.gen;
    const r = this.fromResource.get(name);
    if (r !== undefined && r.gen === gen) return scalarOf(r.value);
    const value = findAttribute(this.rec!.resource.resource.attributes, name);
    if (r !== undefined) {
      r.gen = gen;
      r.value = value;
    } else this.fromResource.set(name, { gen, value });
    return scalarOf(value);
  }

  /** Whether the record itself (not its resource) carried the attribute when the view was reset. */
  has(name: string): boolean {
    return this.indexOf(name) >= 0;
  }

  static of(rec: VigilRecord): AttributeView {
    return new AttributeView().reset(rec);
  }
}

const NAME = /^[A-Za-z_@][A-Za-z0-9_.@:/-]*$/;

/** Parses a reference; throws an Error whose message says how to fix it. */
export function parseAttrRef(input: string): AttrRef {
  const text = input.trim();
  if (text === '') throw new Error('empty attribute name');
  const fn = /^([a-z_]+)\((.*)\)$/.exec(text);
  if (fn) {
    if (fn[1] !== 'net') throw new Error(`unknown function ${fn[1]}(): the only function is net(attribute)`);
    const inner = parseAttrRef(fn[2]);
    return { text, get: (view) => networkOf(inner.get(view)) };
  }
  const names = text.split('|').map((n) => n.trim());
  for (const n of names) {
    if (!NAME.test(n)) throw new Error(`"${n}" is not an attribute name (letters, digits, _ . - / : @; alternatives separated by |)`);
  }
  if (names.length === 1) {
    const name = names[0];
    return { text, get: (view) => view.get(name) };
  }
  return {
    text,
    get(view) {
      for (const n of names) {
        const v = view.get(n);
        if (v !== undefined && v !== '') return v;
      }
      return undefined;
    },
  };
}

/** The network an address belongs to (IPv4 /24, IPv6 /48), or undefined when it is not an IP address. */
export function networkOf(v: Scalar | undefined): string | undefined {
  if (typeof v !== 'string') return undefined;
  let ip = v.trim();
  if (ip.startsWith('[')) ip = ip.slice(1, ip.indexOf(']') > 0 ? ip.indexOf(']') : undefined);
  const kind = isIP(ip);
  if (kind === 4) return `${ip.slice(0, ip.lastIndexOf('.'))}.0/24`;
  if (kind !== 6) return undefined;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) return networkOf(mapped[1]);
  const groups = expandIPv6(ip);
  return `${groups.slice(0, 3).join(':')}::/48`;
}

function expandIPv6(ip: string): string[] {
  const [head, tail] = ip.includes('::') ? ip.split('::') : [ip, undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const fill = tail === undefined ? [] : new Array(Math.max(0, 8 - h.length - t.length)).fill('0');
  return [...h, ...fill, ...t].map((g) => (g.includes('.') ? g : (parseInt(g, 16) || 0).toString(16)));
}
