// Enrichment of one record, in the order the audit contract needs:
//   0. audit.record_id from the record as received (computed per batch, before anything changes)
//   1. limits on what the sender sent
//   2. parse the body, read semconv attributes, fill the missing semconv attributes
//   3. geo on the real client address
//   4. pseudonymise (attributes, and the same values in the body)
//   5. audit.* and ocsf.* fields
// Nothing here throws on any input; the processor is a thin shell around it.
//
// This is the hot path (hundreds of thousands of records per second per core):
// attributes are appended in one go, the enumerated ones (outcome, action,
// method, status, OCSF ids…) as shared frozen KeyValue objects, so that most of
// the ~25 attributes cost no allocation (audit.resource too: routes and
// collapsed paths repeat, and encoders reuse a shared attribute's bytes).
// Attribute objects are immutable: replace them (record.ts setAttribute does),
// never mutate them in place.
// Any change other than appending attributes (limits, dropped sender audit.*,
// pseudonyms, a filled-in timestamp) marks the record rewritten (record.ts
// `markRewritten`): encoders then write it from its objects, not its bytes.
import type { AnyValue, KeyValue, LogRecord, ResourceContext, VigilRecord } from '../../pipeline/record.js';
import { anyValue, findAttribute, markRewritten, nanosToMillis, scalarOf, sharedAttribute } from '../../pipeline/record.js';
import type { BodyOptions } from './body.js';
import { parseBody } from './body.js';
import type { AccessFields, BodyParse, Outcome, ParseStatus } from './fields.js';
import { applyTarget, KNOWN_METHODS, millisToNanosLong, normaliseOutcome, splitProtocol, validStatus } from './fields.js';
import type { GeoLookup } from './geo.js';
import { capRecord, capString, type Limits, type Marks } from './limits.js';
import { ocsfFor, ocsfKey } from './ocsf.js';
import { PREVIOUS_PSEUDONYM_ATTRIBUTE_PREFIX, PSEUDONYM_PREFIX, type Pseudonymiser, replaceDelimited } from './pseudonymise.js';
import type { CompiledRules } from './rules.js';
import { decideAction, decideOutcome, decideResource } from './rules.js';

export const SCHEMA_VERSION = '1';

export interface EnrichSettings {
  rules: CompiledRules;
  body: BodyOptions;
  limits: Limits;
  environment: string | undefined;
  skipEnriched: boolean;
  ocsf: boolean;
  geo: GeoLookup | undefined;
  pseudonymiser: Pseudonymiser | undefined;
  pseudonymised: readonly string[];
  pseudonymiseBody: boolean;
}

export interface EnrichResult {
  /** undefined when the record was already enriched and passed unchanged. */
  status: ParseStatus | undefined;
  marks: number;
}

// ---- shared attribute objects ---------------------------------------------------

const MEMO_LIMIT = 512;

/**
 * Frozen KeyValue objects for one key, shared by every record with the same
 * (low-cardinality) value. Past MEMO_LIMIT values a new value gets a plain
 * KeyValue of its own: a frozen one would have every encoder encode it once
 * more and keep its bytes for one record.
 */
class SharedValues {
  private readonly byValue = new Map<string | number, KeyValue>();

  constructor(readonly key: string) {}

  get(value: string | number): KeyValue {
    let kv = this.byValue.get(value);
    if (kv === undefined) {
      if (this.byValue.size >= MEMO_LIMIT) return { key: this.key, value: anyValue(value) };
      kv = sharedAttribute(this.key, value);
      this.byValue.set(value, kv);
    }
    return kv;
  }
}

const sharedByKey = new Map<string, SharedValues>();

function sharedValues(key: string): SharedValues {
  let s = sharedByKey.get(key);
  if (s === undefined) sharedByKey.set(key, (s = new SharedValues(key)));
  return s;
}

const SCHEMA = sharedValues('audit.schema_version').get(SCHEMA_VERSION);
const OUTCOME = sharedValues('audit.outcome');
const ACTION = sharedValues('audit.action');
const RESOURCE = sharedValues('audit.resource'); // routes and collapsed paths: few, by design
const PARSE_STATUS = sharedValues('audit.parse_status');
const PARSE_ISSUE = sharedValues('audit.parse_issue');
const OCSF_CLASS = sharedValues('ocsf.class_uid');
const OCSF_CATEGORY = sharedValues('ocsf.category_uid');
const OCSF_ACTIVITY = sharedValues('ocsf.activity_id');
const OCSF_TYPE = sharedValues('ocsf.type_uid');
const OCSF_STATUS = sharedValues('ocsf.status_id');
const OCSF_SEVERITY = sharedValues('ocsf.severity_id');

/** The six OCSF attributes of each (action, method, outcome, severity) seen, built once. */
const ocsfByInput = new Map<number, readonly KeyValue[]>();

function ocsfAttributes(action: string, method: string | undefined, outcome: Outcome, severityNumber: number | undefined): readonly KeyValue[] {
  const key = ocsfKey(action, method, outcome, severityNumber);
  let kvs = ocsfByInput.get(key);
  if (kvs === undefined) {
    const o = ocsfFor(action, method, outcome, severityNumber);
    kvs = Object.freeze([
      OCSF_CLASS.get(o.class_uid),
      OCSF_CATEGORY.get(o.category_uid),
      OCSF_ACTIVITY.get(o.activity_id),
      OCSF_TYPE.get(o.type_uid),
      OCSF_STATUS.get(o.status_id),
      OCSF_SEVERITY.get(o.severity_id),
    ]);
    ocsfByInput.set(key, kvs); // at most 100 activities × 3 statuses × 7 severities × 2 classes
  }
  return kvs;
}

/** A per-batch shared audit.ingested_at attribute. */
export function ingestedAtAttribute(iso: string): KeyValue {
  return sharedAttribute('audit.ingested_at', iso);
}

// ---- reading what the sender sent -------------------------------------------------

/** An attribute enrichment reads from the sender or fills in: its key, its slot in the sender index, its shared values. */
class Field {
  readonly shared: SharedValues;

  constructor(
    readonly key: string,
    readonly slot: number,
    /** Read by readSemconv: a record carrying none of these (most text-log records) skips it. */
    readonly semconv: boolean,
  ) {
    this.shared = sharedValues(key);
  }
}

/** Every key enrichment looks at in the sender's attributes: a field it reads, or one Vigil owns (dropped). */
const KEYS = new Map<string, Field | 'owned'>();
let fieldCount = 0;

/** The attributes Vigil writes itself: a sender's values for them (spoofed ids, stale outcomes) are dropped. */
for (const key of [
  'audit.record_id', 'audit.schema_version', 'audit.outcome', 'audit.action', 'audit.resource', 'audit.parse_status', 'audit.parse_issue',
  'audit.ingested_at', 'audit.limits_applied', 'ocsf.class_uid', 'ocsf.category_uid', 'ocsf.activity_id', 'ocsf.type_uid', 'ocsf.status_id', 'ocsf.severity_id',
]) {
  KEYS.set(key, 'owned');
}

function field(key: string, semconv = false): Field {
  const f = new Field(key, fieldCount++, semconv);
  KEYS.set(key, f);
  return f;
}

/** Named fields: call sites pass these rather than key strings, so a lookup costs no Map access. */
const F = {
  method: field('http.request.method', true),
  methodOriginal: field('http.request.method_original', true),
  oldMethod: field('http.method', true),
  path: field('url.path', true),
  oldTarget: field('http.target', true),
  fullUrl: field('url.full', true),
  oldUrl: field('http.url', true),
  route: field('http.route', true),
  status: field('http.response.status_code', true),
  oldStatus: field('http.status_code', true),
  size: field('http.response.body.size', true),
  oldSize: field('http.response_content_length', true),
  duration: field('http.server.request.duration', true),
  client: field('client.address', true),
  oldClientIp: field('http.client_ip', true),
  oldSockPeer: field('net.sock.peer.addr', true),
  oldPeerIp: field('net.peer.ip', true),
  peerAddress: field('network.peer.address', true),
  user: field('user.id', true),
  oldUser: field('enduser.id', true),
  session: field('session.id', true),
  userAgent: field('user_agent.original', true),
  oldUserAgent: field('http.user_agent', true),
  outcome: field('event.outcome', true),
  query: field('url.query'),
  clientPort: field('client.port'),
  referer: field('http.request.header.referer'),
  serverAddress: field('server.address'),
  serverPort: field('server.port'),
  protocolName: field('network.protocol.name'),
  protocolVersion: field('network.protocol.version'),
  geo: field('geo.country.iso_code'),
  environment: field('deployment.environment.name'),
};

// Where each field's key first is in the attributes of the record being
// enriched, valid for the slots stamped with the current generation: one pass
// over the attributes replaces a scan per key looked up (about twenty per
// record); module-level arrays, so indexing allocates nothing.
const slotIndex = new Int32Array(fieldCount);
const slotStamp = new Uint32Array(fieldCount);
let generation = 0;

/**
 * The sender's attributes, looked up by field (through the index) or by any key
 * (a scan, or a Map when there are many). Starting it on a record drops the
 * sender's values of the attributes Vigil writes itself (spoofed ids, stale
 * outcomes), marking the list rewritten when there were any, in the same pass
 * as the indexing.
 */
class SenderAttrs {
  list: KeyValue[] = [];
  private index: Map<string, number> | undefined;
  private generation = 0;
  /** Whether any attribute readSemconv reads is there. */
  semconv = false;
  /** How many attributes the sender's are (those after are Vigil's). */
  count = 0;

  /** Indexes the next record's attributes (one instance serves every record: enrichment is synchronous). */
  start(list: KeyValue[]): this {
    this.list = list;
    this.index = undefined;
    if (generation === 0xffffffff) {
      slotStamp.fill(0); // a stamp from 2^32 records ago must not read as current
      generation = 0;
    }
    const g = (this.generation = ++generation);
    let semconv = false;
    let w = 0;
    for (let r = 0; r < list.length; r++) {
      const kv = list[r];
      const f = KEYS.get(kv.key);
      if (f === 'owned') continue;
      list[w] = kv;
      if (f !== undefined && slotStamp[f.slot] !== g) {
        slotStamp[f.slot] = g;
        slotIndex[f.slot] = w;
        if (f.semconv) semconv = true;
      }
      w++;
    }
    if (w !== list.length) {
      list.length = w;
      markRewritten(list);
    }
    this.count = w;
    this.semconv = semconv;
    return this;
  }

  /** Index of the first attribute with the field's key (or the key), -1 when absent. */
  find(k: Field | string): number {
    if (typeof k === 'string') {
      const f = KEYS.get(k);
      if (f === undefined || f === 'owned') return this.scan(k);
      k = f;
    }
    if (this.generation !== generation) return this.scan(k.key); // another record indexed since (not done today)
    return slotStamp[k.slot] === generation ? slotIndex[k.slot] : -1;
  }

  private scan(key: string): number {
    if (this.count > 16) {
      if (this.index === undefined) {
        this.index = new Map();
        for (let i = this.count - 1; i >= 0; i--) this.index.set(this.list[i].key, i);
      }
      return this.index.get(key) ?? -1;
    }
    for (let i = 0; i < this.count; i++) if (this.list[i].key === key) return i;
    return -1;
  }

  /** A scalar attribute's value; empty strings count as absent. */
  scalar(k: Field): string | number | boolean | undefined {
    const i = this.find(k);
    if (i < 0) return undefined;
    const v = scalarOf(this.list[i].value);
    return v === '' ? undefined : v;
  }

  string(k: Field): string | undefined {
    const v = this.scalar(k);
    return v === undefined ? undefined : String(v);
  }

  number(k: Field): number | undefined {
    const v = this.scalar(k);
    if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
    if (typeof v === 'string' && /^\d+(?:\.\d+)?$/.test(v)) return Number(v);
    return undefined;
  }

  /** Present with a usable value (not an empty string, not an empty AnyValue). */
  has(k: Field): boolean {
    const i = this.find(k);
    if (i < 0) return false;
    const v = this.list[i].value;
    if (v == null) return false;
    // A scalar is an own member the decoders set; anything else counts when it has any own property.
    const s = scalarOf(v);
    if (s !== undefined) return s !== '';
    for (const key in v) if (Object.hasOwn(v, key)) return true;
    return false;
  }
}

function firstString(a: SenderAttrs, fields: readonly Field[]): string | undefined {
  for (const k of fields) {
    const v = a.string(k);
    if (v !== undefined) return v;
  }
  return undefined;
}

function firstNumber(a: SenderAttrs, fields: readonly Field[]): number | undefined {
  for (const k of fields) {
    const v = a.number(k);
    if (v !== undefined) return v;
  }
  return undefined;
}

// Current names, then deprecated ones.
const METHODS = [F.method, F.oldMethod];
const TARGETS = [F.fullUrl, F.oldUrl];
const STATUSES = [F.status, F.oldStatus];
const SIZES = [F.size, F.oldSize];
const CLIENTS = [F.client, F.oldClientIp, F.oldSockPeer, F.oldPeerIp, F.peerAddress];
const USERS = [F.user, F.oldUser];
const USER_AGENTS = [F.userAgent, F.oldUserAgent];

/** What semconv attributes (current names, then deprecated ones) already say. */
function readSemconv(a: SenderAttrs): AccessFields {
  // Every field it (or applyTarget) may set, present from the start: one allocation,
  // where adding them one by one grew the object's property store several times.
  // Only read through `!== undefined` (merged, parseStatusOf).
  const f: AccessFields = {
    method: undefined, target: undefined, path: undefined, query: undefined, fullUrl: undefined, route: undefined, status: undefined,
    size: undefined, durationS: undefined, client: undefined, user: undefined, session: undefined, userAgent: undefined, outcome: undefined,
  };
  const method = a.string(F.method) === '_OTHER' ? a.string(F.methodOriginal) : firstString(a, METHODS);
  if (method !== undefined) f.method = method;
  const path = a.string(F.path);
  const target = a.string(F.oldTarget) ?? firstString(a, TARGETS);
  if (path !== undefined) f.path = path;
  else if (target !== undefined) applyTarget(f, target);
  const route = a.string(F.route);
  if (route !== undefined) f.route = route;
  const status = firstNumber(a, STATUSES);
  if (status !== undefined && validStatus(status)) f.status = status;
  const size = firstNumber(a, SIZES);
  if (size !== undefined) f.size = size;
  const duration = a.number(F.duration);
  if (duration !== undefined) f.durationS = duration;
  const client = firstString(a, CLIENTS);
  if (client !== undefined) f.client = client;
  const user = firstString(a, USERS);
  if (user !== undefined) f.user = user;
  const session = a.string(F.session);
  if (session !== undefined) f.session = session;
  const ua = firstString(a, USER_AGENTS);
  if (ua !== undefined) f.userAgent = ua;
  const outcome = normaliseOutcome(a.scalar(F.outcome));
  if (outcome !== undefined) f.outcome = outcome;
  return f;
}

function hasHttpCore(f: AccessFields): boolean {
  return f.method !== undefined && f.status !== undefined && (f.path !== undefined || f.route !== undefined);
}

function hasAnyAccessField(f: AccessFields): boolean {
  return f.method !== undefined || f.status !== undefined || f.path !== undefined || f.route !== undefined || f.client !== undefined || f.user !== undefined;
}

const NO_FIELDS: AccessFields = Object.freeze({});

/** The record's parse status and issue from the body parse and what the attributes already held. */
function parseStatusOf(parsed: BodyParse | undefined, fromAttrs: AccessFields): { status: ParseStatus; issue?: string } {
  if (parsed?.status === 'ok') return OK;
  if (parsed?.status === 'partial') return parsed.issue === undefined ? { status: 'partial' } : { status: 'partial', issue: parsed.issue };
  if (hasHttpCore(fromAttrs)) return OK;
  if (hasAnyAccessField(fromAttrs)) return { status: 'partial', issue: 'attributes lack http.request.method, http.response.status_code or url.path' };
  return { status: 'unparsed', issue: parsed?.issue ?? 'no body and no access-log attributes' };
}

const OK = Object.freeze({ status: 'ok' as const });

// ---- writing ------------------------------------------------------------------------

/**
 * Appends Vigil's attributes after the sender's; fills semconv ones only where
 * the sender had none. One instance, started afresh for each record
 * (enrichment is synchronous), so that no record allocates it.
 */
class Out {
  private list: KeyValue[] = [];
  private sender: SenderAttrs | undefined;
  private maxLen = 0;
  marks: Marks = [];

  start(list: KeyValue[], sender: SenderAttrs | undefined, maxLen: number, marks: Marks): this {
    this.list = list;
    this.sender = sender;
    this.maxLen = maxLen;
    this.marks = marks;
    return this;
  }

  private senderHas(f: Field): boolean {
    return this.sender !== undefined && this.sender.has(f);
  }

  fillShared(f: Field, value: string | number | undefined): void {
    if (value === undefined || this.senderHas(f)) return;
    this.list.push(f.shared.get(value));
  }

  fillString(f: Field, value: string | undefined): void {
    if (value === undefined || this.senderHas(f)) return;
    this.list.push({ key: f.key, value: { stringValue: capString(value, this.maxLen, this.marks, f.key) } });
  }

  fillNumber(f: Field, value: number | undefined, integer: boolean): void {
    if (value === undefined || !Number.isFinite(value) || this.senderHas(f)) return;
    this.list.push({ key: f.key, value: integer && Number.isSafeInteger(value) ? { intValue: value } : { doubleValue: value } });
  }

  /** Header attributes are string arrays in semantic conventions. */
  fillStringArray(f: Field, value: string | undefined): void {
    if (value === undefined || this.senderHas(f)) return;
    this.list.push({ key: f.key, value: { arrayValue: { values: [{ stringValue: capString(value, this.maxLen, this.marks, f.key) }] } } });
  }

  /** Vigil-owned attributes (audit.*, ocsf.*; the sender's were dropped). */
  own(kv: KeyValue): void {
    this.list.push(kv);
  }
}

const recordSender = new SenderAttrs();
const recordOut = new Out();

/** The result of the record just enriched: one object reused (the processor reads it before the next record). */
const lastResult: EnrichResult = { status: undefined, marks: 0 };

function result(status: ParseStatus | undefined, marks: number): EnrichResult {
  lastResult.status = status;
  lastResult.marks = marks;
  return lastResult;
}

/** The marks of the record being enriched: one array reused (enrichment is synchronous; audit.limits_applied gets a copy). */
const recordMarks: Marks = [];

/**
 * The body's fields with the attributes' over them (attributes win). Explicit,
 * for the fields readSemconv can set (applyTarget's included): a for-in over
 * them cost more than the rest of the merge.
 */
function merged(body: AccessFields, a: AccessFields): AccessFields {
  const f: AccessFields = { ...body };
  if (a.method !== undefined) f.method = a.method;
  if (a.target !== undefined) f.target = a.target;
  if (a.path !== undefined) f.path = a.path;
  if (a.query !== undefined) f.query = a.query;
  if (a.fullUrl !== undefined) f.fullUrl = a.fullUrl;
  if (a.route !== undefined) f.route = a.route;
  if (a.status !== undefined) f.status = a.status;
  if (a.size !== undefined) f.size = a.size;
  if (a.durationS !== undefined) f.durationS = a.durationS;
  if (a.client !== undefined) f.client = a.client;
  if (a.user !== undefined) f.user = a.user;
  if (a.session !== undefined) f.session = a.session;
  if (a.userAgent !== undefined) f.userAgent = a.userAgent;
  if (a.outcome !== undefined) f.outcome = a.outcome;
  return f;
}

/**
 * Enriches one record in place. `recordId` was computed over the batch as
 * received; `ingestedAt` is the batch's shared audit.ingested_at attribute.
 */
export function enrichRecord(rec: VigilRecord, recordId: string, ingestedAt: KeyValue, s: EnrichSettings): EnrichResult {
  const log: LogRecord = rec.log;
  if (!Array.isArray(log.attributes)) log.attributes = [];
  const list = log.attributes;
  if (s.skipEnriched && list.length > 0 && alreadyEnriched(list)) return result(undefined, 0);

  // 1. limits on what was sent.
  const marks = recordMarks;
  marks.length = 0;
  capRecord(log, s.limits, marks);
  let sender = list.length > 0 ? recordSender.start(list) : undefined;
  if (sender?.count === 0) sender = undefined;

  // 2. what the attributes say, then what the body says; attributes win.
  const fromAttrs = sender?.semconv ? readSemconv(sender) : NO_FIELDS;
  let parsed: BodyParse | undefined;
  try {
    parsed = parseBody(log.body, s.body);
  } catch (err) {
    // Parsers are written not to throw; this is the last line of defence (e.g. a V8 stack overflow).
    parsed = { status: 'unparsed', fields: {}, issue: `parser failed: ${(err as Error)?.message ?? 'unknown error'}` };
  }
  const p = parsed?.fields ?? NO_FIELDS;
  const f = fromAttrs === NO_FIELDS ? p : merged(p, fromAttrs);
  if (p.timeMs !== undefined && p.timeMs > 0 && nanosToMillis(log.timeUnixNano) === 0) {
    log.timeUnixNano = millisToNanosLong(p.timeMs);
    markRewritten(log);
  }

  // 3. geo, on the address as received; 4. pseudonyms (computed here, written below).
  const geo = s.geo !== undefined && f.client !== undefined && !sender?.has(F.geo) ? s.geo.country(f.client) : undefined;
  const ps = s.pseudonymiser;
  const rotating = ps?.rotating === true; // the clock read once per record
  const pseudo = ps ? pseudonymsFor(f, s, rotating) : undefined;

  const out = recordOut.start(list, sender, s.limits.maxValueLength, marks);
  fillSemconv(out, sender, f, p, pseudo);
  if (geo !== undefined) out.fillShared(F.geo, geo);
  if (!sender?.has(F.environment)) {
    const env = resourceEnvironment(rec.resource) ?? s.environment;
    if (env !== undefined) out.fillShared(F.environment, env);
  }
  if (ps) pseudonymise(log, sender, s, pseudo!);
  if (rotating) addPreviousPseudonyms(list, ps!, pseudo!);

  // 5. audit and OCSF fields.
  const method = f.method;
  const outcome: Outcome = decideOutcome(s.rules, f);
  const action = decideAction(s.rules, f);
  const resource = decideResource(s.rules, f);
  const status = parseStatusOf(parsed, fromAttrs);

  out.own({ key: 'audit.record_id', value: { stringValue: recordId } });
  out.own(SCHEMA);
  out.own(OUTCOME.get(outcome));
  out.own(ACTION.get(action));
  if (resource !== undefined) out.own(RESOURCE.get(capString(resource, s.limits.maxValueLength, marks, 'audit.resource')));
  out.own(PARSE_STATUS.get(status.status));
  if (status.issue !== undefined) out.own(PARSE_ISSUE.get(capString(status.issue, s.limits.maxValueLength, marks, 'audit.parse_issue')));
  out.own(ingestedAt);
  if (s.ocsf) {
    const ocsf = ocsfAttributes(action, method, outcome, log.severityNumber);
    for (let i = 0; i < ocsf.length; i++) out.own(ocsf[i]); // indexed: for-of over the frozen array allocated an iterator result per attribute
  }
  if (marks.length > 0) {
    const values = marks.map((m) => ({ stringValue: capString(m, s.limits.maxValueLength, [], '') }));
    out.own({ key: 'audit.limits_applied', value: { arrayValue: { values } } });
  }
  return result(status.status, marks.length);
}

/** deployment.environment.name (or its deprecated name) of a resource, looked up once per resource. */
const environments = new WeakMap<ResourceContext, string | null>();

function resourceEnvironment(r: ResourceContext): string | undefined {
  let env = environments.get(r);
  if (env === undefined) {
    const attrs = r.resource.attributes ?? [];
    env = str(findAttribute(attrs, 'deployment.environment.name')) ?? str(findAttribute(attrs, 'deployment.environment')) ?? null;
    environments.set(r, env);
  }
  return env ?? undefined;
}

function str(v: AnyValue | undefined): string | undefined {
  const s = scalarOf(v);
  return s === undefined || s === '' ? undefined : String(s);
}

function alreadyEnriched(attrs: readonly KeyValue[]): boolean {
  return scalarOf(findAttribute(attrs, 'audit.schema_version')) === SCHEMA_VERSION && str(findAttribute(attrs, 'audit.record_id')) !== undefined;
}

/** Pseudonyms of the merged client, user and session, for the configured ones among them, and [original, pseudonym] pairs. */
interface Pseudonyms {
  client?: string;
  user?: string;
  session?: string;
  originals: [string, string][];
  /** [attribute, original value] of each pseudonymised attribute, for the previous key's pseudonyms: only during a rotation. */
  byAttribute: [string, string][] | undefined;
}

/** During a key rotation's overlap: `vigil.previous_pseudonym.<attribute>` with the previous key's pseudonym, so old and new pseudonyms link. */
function addPreviousPseudonyms(list: KeyValue[], ps: Pseudonymiser, p: Pseudonyms): void {
  const done = new Set<string>();
  for (const [attribute, original] of p.byAttribute ?? []) {
    if (done.has(attribute)) continue;
    done.add(attribute);
    const prev = ps.previousPseudonym(attribute, original);
    if (prev !== undefined) list.push({ key: PREVIOUS_PSEUDONYM_ATTRIBUTE_PREFIX + attribute, value: { stringValue: prev } });
  }
}

function pseudonymsFor(f: AccessFields, s: EnrichSettings, rotating: boolean): Pseudonyms {
  const out: Pseudonyms = { client: undefined, user: undefined, session: undefined, originals: [], byAttribute: rotating ? [] : undefined };
  const ps = s.pseudonymiser!;
  for (const key of s.pseudonymised) {
    if (key === 'client.address') out.client = pseudonymOf(out, ps, key, f.client);
    else if (key === 'user.id') out.user = pseudonymOf(out, ps, key, f.user);
    else if (key === 'session.id') out.session = pseudonymOf(out, ps, key, f.session);
  }
  return out;
}

/** One merged field's pseudonym, noted in `out` (a function, not a closure per record). */
function pseudonymOf(out: Pseudonyms, ps: Pseudonymiser, key: string, v: string | undefined): string | undefined {
  if (v === undefined || isPseudonym(v)) return undefined;
  const p = ps.pseudonym(key, v);
  out.byAttribute?.push([key, v]);
  if (p !== v) out.originals.push([v, p]);
  return p;
}

/** Fills the semconv attributes the record lacks from the merged fields (pseudonyms in place of the configured ones). */
function fillSemconv(out: Out, sender: SenderAttrs | undefined, f: AccessFields, p: AccessFields, pseudo: Pseudonyms | undefined): void {
  if (f.method !== undefined && !sender?.has(F.method)) {
    if (KNOWN_METHODS.has(f.method)) {
      out.fillShared(F.method, f.method);
    } else {
      out.fillShared(F.method, '_OTHER');
      out.fillString(F.methodOriginal, f.method);
    }
  }
  out.fillString(F.path, f.path);
  out.fillString(F.query, p.query);
  out.fillString(F.fullUrl, p.fullUrl);
  out.fillString(F.route, f.route);
  if (f.status !== undefined && Number.isInteger(f.status)) out.fillShared(F.status, f.status);
  out.fillNumber(F.size, f.size, true);
  out.fillNumber(F.duration, f.durationS, false);
  out.fillString(F.client, pseudo?.client ?? f.client);
  out.fillNumber(F.clientPort, p.clientPort, true);
  out.fillString(F.user, pseudo?.user ?? f.user);
  out.fillString(F.session, pseudo?.session ?? f.session);
  out.fillString(F.userAgent, f.userAgent);
  out.fillStringArray(F.referer, p.referer);
  out.fillString(F.serverAddress, p.serverAddress);
  out.fillNumber(F.serverPort, p.serverPort, true);
  if (p.protocol !== undefined && !sender?.has(F.protocolName)) {
    const proto = splitProtocol(p.protocol);
    if (proto) {
      out.fillShared(F.protocolName, proto.name);
      if (proto.version !== undefined) out.fillShared(F.protocolVersion, proto.version);
    }
  }
}

/** Deprecated names that carry the same value as a pseudonymised attribute, replaced with it. */
const PSEUDONYMISED_ALIASES: Record<string, readonly string[]> = {
  'client.address': ['http.client_ip', 'net.sock.peer.addr', 'net.peer.ip', 'network.peer.address'],
  'user.id': ['enduser.id'],
};

/**
 * Replaces the configured attributes the sender set (and their deprecated
 * aliases) by their pseudonyms, and every original value in the body. The
 * attributes Vigil filled were written as pseudonyms already.
 */
function pseudonymise(log: LogRecord, sender: SenderAttrs | undefined, s: EnrichSettings, filled: Pseudonyms): void {
  const ps = s.pseudonymiser!;
  const replacements: [string, string][] = [];
  if (sender) {
    const list = sender.list;
    for (const key of s.pseudonymised) {
      const aliases = PSEUDONYMISED_ALIASES[key];
      for (let n = -1; n < (aliases?.length ?? 0); n++) {
        const k = n < 0 ? key : aliases![n];
        const i = sender.find(k);
        if (i < 0) continue;
        const v = scalarOf(list[i].value);
        if (v === undefined || v === '') continue;
        const orig = String(v);
        if (isPseudonym(orig)) continue;
        // Aliases share the canonical attribute's pseudonym: one person, one pseudonym.
        const p = ps.pseudonym(key, orig);
        list[i] = { key: k, value: { stringValue: p } };
        markRewritten(list);
        noteReplacement(replacements, orig, p);
        if (n < 0) filled.byAttribute?.push([key, orig]);
      }
    }
  }
  if (!s.pseudonymiseBody || log.body == null) return;
  // Values Vigil read from the body and wrote as pseudonyms.
  for (const [orig, p] of filled.originals) noteReplacement(replacements, orig, p);
  if (replacements.length === 0) return;
  if (!s.pseudonymiseBody || replacements.length === 0 || log.body == null) return;
  const body = log.body;
  if (Object.hasOwn(body, 'stringValue') && typeof body.stringValue === 'string') {
    const text = body.stringValue;
    log.body = { stringValue: replaceAll(text, replacements, startsWithBrace(text)) };
    markRewritten(log);
  } else if (Object.hasOwn(body, 'kvlistValue') && body.kvlistValue != null) {
    replaceInValue(body, replacements, 0);
    markRewritten(log); // values inside the body replaced in place
  }
}

/** Adds [original, pseudonym] unless the original is listed already or unchanged (a loop: `some` built a closure per call). */
function noteReplacement(replacements: [string, string][], orig: string, p: string): void {
  if (p === orig) return;
  for (let i = 0; i < replacements.length; i++) if (replacements[i][0] === orig) return;
  replacements.push([orig, p]);
}

function startsWithBrace(text: string): boolean {
  let i = 0;
  while (i < text.length && (text.charCodeAt(i) === 32 || text.charCodeAt(i) === 9)) i++;
  return text.charCodeAt(i) === 123;
}

function isPseudonym(v: string): boolean {
  return v.length === PSEUDONYM_PREFIX.length + 22 && v.startsWith(PSEUDONYM_PREFIX);
}

function replaceAll(text: string, replacements: readonly [string, string][], jsonEscapes: boolean): string {
  let out = text;
  for (const [orig, ps] of replacements) {
    out = replaceDelimited(out, orig, ps);
    if (jsonEscapes) {
      // The same value as a JSON body spells it (quotes, backslashes, non-ASCII escaped).
      const escaped = JSON.stringify(orig).slice(1, -1);
      if (escaped !== orig) out = replaceDelimited(out, escaped, ps);
    }
  }
  return out;
}

const MAX_BODY_WALK_DEPTH = 16;

function replaceInValue(v: AnyValue, replacements: readonly [string, string][], depth: number): void {
  if (depth > MAX_BODY_WALK_DEPTH) return;
  if (Object.hasOwn(v, 'kvlistValue') && v.kvlistValue != null) {
    for (const kv of v.kvlistValue.values ?? []) {
      const inner = kv?.value;
      if (inner == null) continue;
      if (Object.hasOwn(inner, 'stringValue') && typeof inner.stringValue === 'string') kv.value = { stringValue: replaceAll(inner.stringValue, replacements, false) };
      else replaceInValue(inner, replacements, depth + 1);
    }
  } else if (Object.hasOwn(v, 'arrayValue') && v.arrayValue != null) {
    const values = v.arrayValue.values ?? [];
    for (let i = 0; i < values.length; i++) {
      const inner = values[i];
      if (inner == null) continue;
      if (Object.hasOwn(inner, 'stringValue') && typeof inner.stringValue === 'string') values[i] = { stringValue: replaceAll(inner.stringValue, replacements, false) };
      else replaceInValue(inner, replacements, depth + 1);
    }
  }
}

