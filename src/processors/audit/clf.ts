// Common / Combined Log Format (Apache, nginx) and their usual extensions:
//
//   [syslog prefix] [vhost[:port]] client ident user [time] "request" status size ["referer" "agent" ...] [request_time]
//
// The line is anchored on its `[dd/Mon/yyyy:hh:mm:ss ±zzzz]` time: the three
// tokens before it are client, ident and user, anything earlier is a prefix.
// Quoted fields end at a quote that is not backslash-escaped and is followed by
// a space or the end of the line, so Apache's `\"` escapes and stray quotes
// inside a field do not cut it short; an unterminated last field (a User-Agent
// that lost its closing quote) runs to the end of the line. Field text is kept
// as the server wrote it: `\xNN` and `\"` escapes are not decoded.
import { isIP } from 'node:net';
import type { AccessFields, BodyParse } from './fields.js';
import { applyTarget, civilToMillis, fixedClfTimeAt, fractionMs, isAddress, parseRequestLine, splitHostPort, validStatus } from './fields.js';

const TIME_RE = /\[(\d{2})\/([A-Za-z]{3})\/(\d{4}):(\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))? ([+-])(\d{2}):?(\d{2})\]/;
/** The time bracket is searched for only near the start: a CLF line has at most a short prefix before it. */
const TIME_SEARCH_LIMIT = 512;
const REQUEST_TIME_RE = /^\d+\.\d+$/;
const QUOTE = 34;
const SPACE = 32;
const BACKSLASH = 92;

/** Parses one CLF/Combined line, or returns undefined when the text has no CLF time bracket. */
export function parseClf(text: string): BodyParse | undefined {
  const line = trimLineEnd(text);
  const t = findTime(line);
  if (!t) return undefined;

  const f: AccessFields = {};
  let issue: string | undefined;
  const note = (why: string) => {
    issue ??= why;
  };

  if (Number.isNaN(t.ms)) note('time out of range');
  else f.timeMs = t.ms;

  readHead(line, t.start, f, note);

  let pos = skipSpaces(line, t.end);
  const timeFirst = line.charCodeAt(pos) !== QUOTE;
  if (timeFirst) {
    // Formats that put the time first (nginx-proxy-manager: `[time] host client rt "request" …`):
    // take the last IP literal before the request as the client; the line stays partial.
    const quote = line.indexOf('"', pos);
    if (quote < 0) {
      note('no quoted request after the time');
      return result(f, issue);
    }
    note('fields between the time and the request');
    if (f.client === undefined) {
      const ips = line.slice(pos, quote).split(' ').filter((t) => isIP(t) !== 0);
      if (ips.length > 0) f.client = ips[ips.length - 1];
    }
    pos = quote;
  }
  pos = readRequestAndStatus(line, pos, f, note);
  // In an unknown layout, quoted fields after a request without a status are not referer and agent.
  if (!timeFirst || f.status !== undefined) readTail(line, pos, f);
  return result(f, issue);
}

/** The CLF time bracket near the start of the line: its position and UTC ms (NaN when impossible). */
function findTime(line: string): { start: number; end: number; ms: number } | undefined {
  const limit = Math.min(line.length, TIME_SEARCH_LIMIT);
  for (let i = line.indexOf('['); i >= 0 && i < limit; i = line.indexOf('[', i + 1)) {
    const ms = fixedClfTimeAt(line, i);
    if (ms !== undefined) return { start: i, end: i + 28, ms };
  }
  // Less common spellings: fractional seconds, `+01:00` offsets.
  const m = TIME_RE.exec(line.length > TIME_SEARCH_LIMIT ? line.slice(0, TIME_SEARCH_LIMIT) : line);
  if (!m) return undefined;
  const ms = civilToMillis(+m[3], m[2], +m[1], +m[4], +m[5], +m[6], m[7] ? fractionMs(m[7]) : 0, m[8] === '-' ? -1 : 1, +m[9], +m[10]);
  return { start: m.index, end: m.index + m[0].length, ms: ms ?? NaN };
}

function result(f: AccessFields, issue: string | undefined): BodyParse {
  if (issue === undefined && (f.client === undefined || f.status === undefined || f.timeMs === undefined)) {
    issue = 'incomplete line';
  }
  return issue === undefined ? { status: 'ok', fields: f } : { status: 'partial', fields: f, issue };
}

/** `[prefix…] client ident user` before the time (read backwards: the last three tokens). */
function readHead(line: string, end: number, f: AccessFields, note: (why: string) => void): void {
  const tokens: string[] = [];
  let i = end;
  while (tokens.length < 3) {
    while (i > 0 && line.charCodeAt(i - 1) === SPACE) i--;
    if (i === 0) break;
    const stop = line.lastIndexOf(' ', i - 1);
    tokens.push(line.slice(stop + 1, i));
    i = stop < 0 ? 0 : stop;
  }
  if (tokens.length < 3) {
    note(tokens.length === 0 ? 'no client before the time' : 'missing ident or user field');
    if (tokens.length >= 1) setClient(tokens[tokens.length - 1], f, note);
    return;
  }
  setClient(tokens[2], f, note);
  const user = tokens[0];
  if (user !== '-') f.user = user;
  while (i > 0 && line.charCodeAt(i - 1) === SPACE) i--;
  if (i > 0) readPrefix(line.slice(0, i).split(' ').filter((t) => t !== ''), f);
}

function setClient(token: string, f: AccessFields, note: (why: string) => void): void {
  const client = token.startsWith('[') && token.endsWith(']') ? token.slice(1, -1) : token;
  if (client === '-' || !isAddress(client)) {
    note('client is not an address');
    return;
  }
  f.client = client;
}

/** A vhost (`www.example.com` or `host:443`), possibly after a syslog header ending in `tag[pid]:`. */
function readPrefix(prefix: string[], f: AccessFields): void {
  let start = 0;
  for (let i = prefix.length - 1; i >= 0; i--) {
    if (prefix[i].endsWith(':')) {
      start = i + 1;
      break;
    }
  }
  if (start === 0 && prefix[0].startsWith('<')) return; // RFC 5424 header with no vhost after it
  if (prefix.length - start !== 1) return;
  const { host, port } = splitHostPort(prefix[start]);
  if (host === '-' || host === '_' || !isAddress(host)) return;
  f.serverAddress = host;
  if (port !== undefined) f.serverPort = port;
}

/** `"request" status size`; returns the position after them. */
function readRequestAndStatus(line: string, open: number, f: AccessFields, note: (why: string) => void): number {
  let from = open + 1;
  let firstEnd = -1;
  for (;;) {
    const q = nextUnescapedQuote(line, from);
    if (q < 0) break;
    if (firstEnd < 0) firstEnd = q;
    const after = statusAndSize(line, q + 1, f);
    if (after >= 0) {
      readRequest(line.slice(open + 1, q), f, note);
      if (f.status === undefined) note('status is not a number');
      if (!sizeSeen) note('no size after the status');
      return after;
    }
    from = q + 1;
  }
  note('no status after the request');
  if (firstEnd >= 0) {
    readRequest(line.slice(open + 1, firstEnd), f, note);
    return firstEnd + 1;
  }
  readRequest(line.slice(open + 1), f, note);
  return line.length;
}

/** Whether the last statusAndSize call found a size (kept outside to avoid an allocation per line). */
let sizeSeen = false;

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/**
 * At `pos`: ` status[ size]` (status three digits or `-`; size digits or `-`,
 * Apache's %b for no body: zero), each followed by a space or the line end.
 * Sets f.status and f.size; returns the index after them, or -1 when there is
 * no status there (the quote before was not the request's end).
 */
function statusAndSize(line: string, pos: number, f: AccessFields): number {
  let i = pos;
  if (line.charCodeAt(i) !== SPACE) return -1;
  while (line.charCodeAt(i) === SPACE) i++;
  let status = NaN;
  if (line.charCodeAt(i) === 45) {
    i++;
  } else {
    if (!isDigit(line.charCodeAt(i)) || !isDigit(line.charCodeAt(i + 1)) || !isDigit(line.charCodeAt(i + 2))) return -1;
    status = (line.charCodeAt(i) - 48) * 100 + (line.charCodeAt(i + 1) - 48) * 10 + (line.charCodeAt(i + 2) - 48);
    i += 3;
  }
  if (i < line.length && line.charCodeAt(i) !== SPACE) return -1;
  if (validStatus(status)) f.status = status;
  sizeSeen = false;
  let j = i;
  while (line.charCodeAt(j) === SPACE) j++;
  if (j === i || j >= line.length) return i;
  if (line.charCodeAt(j) === 45) {
    if (j + 1 < line.length && line.charCodeAt(j + 1) !== SPACE) return i;
    f.size = 0;
    sizeSeen = true;
    return j + 1;
  }
  let k = j;
  while (isDigit(line.charCodeAt(k))) k++;
  if (k === j || (k < line.length && line.charCodeAt(k) !== SPACE)) return i;
  f.size = Number(line.slice(j, k));
  sizeSeen = true;
  return k;
}

function readRequest(request: string, f: AccessFields, note: (why: string) => void): void {
  // `-`: the server received no request line (408 timeouts); a complete log line all the same.
  if (request === '-') return;
  const r = parseRequestLine(request);
  if (!r) {
    note(request === '' ? 'empty request line' : 'request line is not METHOD TARGET PROTOCOL');
    return;
  }
  f.method = r.method;
  if (r.protocol !== undefined) f.protocol = r.protocol;
  applyTarget(f, r.target);
}

/** `"referer" "agent" ["x-forwarded-for" …] [request_time]`, all optional. */
function readTail(line: string, pos: number, f: AccessFields): void {
  let quoted = 0;
  let lastBare: string | undefined;
  const len = line.length;
  while (pos < len) {
    pos = skipSpaces(line, pos);
    if (pos >= len) break;
    if (line.charCodeAt(pos) === QUOTE) {
      const end = quotedFieldEnd(line, pos + 1);
      const value = line.slice(pos + 1, end);
      if (value !== '-' && value !== '') {
        if (quoted === 0) f.referer = value;
        else if (quoted === 1) f.userAgent = value;
      }
      quoted++;
      lastBare = undefined;
      pos = end + 1;
    } else {
      let end = line.indexOf(' ', pos);
      if (end < 0) end = len;
      lastBare = line.slice(pos, end);
      pos = end;
    }
  }
  // nginx's $request_time (seconds, with a decimal point) as the last field.
  if (lastBare !== undefined && REQUEST_TIME_RE.test(lastBare)) f.durationS = Number(lastBare);
}

/** The index of the quote closing a field opened before `from`: unescaped and followed by a space or the end; else the line end. */
function quotedFieldEnd(line: string, from: number): number {
  for (;;) {
    const q = nextUnescapedQuote(line, from);
    if (q < 0) return line.length;
    const next = line.charCodeAt(q + 1);
    if (q + 1 >= line.length || next === SPACE) return q;
    from = q + 1;
  }
}

function nextUnescapedQuote(line: string, from: number): number {
  for (;;) {
    const q = line.indexOf('"', from);
    if (q < 0) return -1;
    let backslashes = 0;
    for (let i = q - 1; i >= from - 1 && line.charCodeAt(i) === BACKSLASH; i--) backslashes++;
    if ((backslashes & 1) === 0) return q;
    from = q + 1;
  }
}

function skipSpaces(line: string, pos: number): number {
  while (line.charCodeAt(pos) === SPACE || line.charCodeAt(pos) === 9) pos++;
  return pos;
}

function trimLineEnd(s: string): string {
  let end = s.length;
  while (end > 0) {
    const c = s.charCodeAt(end - 1);
    if (c !== 10 && c !== 13 && c !== SPACE && c !== 9) break;
    end--;
  }
  return end === s.length ? s : s.slice(0, end);
}
