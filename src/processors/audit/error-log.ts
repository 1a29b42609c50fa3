// nginx and Apache *error* log lines often sit in the same stream as access
// logs and carry what an audit needs most: who failed to authenticate, from
// where. They are not access logs, so the result is at best `partial`; what can
// be read is extracted (client, request, user, an authentication failure).
// Their times have no zone, so the record's time is not taken from them.
import type { AccessFields, BodyParse } from './fields.js';
import { applyTarget, isAddress, parseRequestLine, splitHostPort } from './fields.js';

const NGINX_HEAD = /^\d{4}\/\d{2}\/\d{2} \d{2}:\d{2}:\d{2} \[(\w+)\] /;
const APACHE_HEAD = /^\[\w{3} \w{3} \d{2} \d{2}:\d{2}:\d{2}(?:\.\d+)? \d{4}\] \[[\w:]+\] /;
const NGINX_CLIENT = /, client: ([^\s,]+)/;
const NGINX_REQUEST = /, request: "([^"]*)"/;
const NGINX_HOST = /, host: "([^"]*)"/;
const NGINX_LOGIN = /, login: "([^"]*)"/;
const NGINX_AUTH_USER = /user "([^"]*)"(?: was not found| password mismatch)/;
const APACHE_CLIENT = /\[client ([^\]\s]+)\]/;
const APACHE_AUTH_USER = /AH0161[78]: user ([^\s:]+)(?::| not found)/;
const AUTH_FAILURE = /was not found in|password mismatch|login failed|authentication failure|AH01617|AH01618|credentials invalid/i;
const AUTH_SUCCESS = /client logged in|authentication succeeded/i;
/** RFC 5424 (`<pri>1 time host app procid msgid sd `) or BSD (`Mmm dd hh:mm:ss host tag: `) syslog headers. */
const SYSLOG_HEADER = /^(?:<\d{1,3}>\d{1,2} \S+ \S+ \S+ \S+ \S+ (?:-|(?:\[[^\]]*\])+) |(?:<\d{1,3}>)?[A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2} \S+ [^:\s]+: )/;

const SCAN_LIMIT = 4096;

/** Reads an nginx/Apache error-log line, or returns undefined when the line is neither. */
export function parseErrorLog(text: string): BodyParse | undefined {
  let line = text.length > SCAN_LIMIT ? text.slice(0, SCAN_LIMIT) : text;
  const syslog = SYSLOG_HEADER.exec(line);
  if (syslog) line = line.slice(syslog[0].length);
  const f: AccessFields = {};
  if (NGINX_HEAD.test(line)) {
    const client = NGINX_CLIENT.exec(line)?.[1];
    if (client !== undefined) setClient(f, client);
    const request = NGINX_REQUEST.exec(line)?.[1];
    if (request !== undefined) {
      const r = parseRequestLine(request);
      if (r) {
        f.method = r.method;
        if (r.protocol !== undefined) f.protocol = r.protocol;
        applyTarget(f, r.target);
      }
    }
    const host = NGINX_HOST.exec(line)?.[1];
    if (host !== undefined) {
      const hp = splitHostPort(host);
      if (isAddress(hp.host)) f.serverAddress = hp.host;
    }
    const user = NGINX_AUTH_USER.exec(line)?.[1] ?? NGINX_LOGIN.exec(line)?.[1];
    if (user !== undefined && user !== '') f.user = user;
  } else if (APACHE_HEAD.test(line)) {
    const client = APACHE_CLIENT.exec(line)?.[1];
    if (client !== undefined) setClient(f, client);
    const user = APACHE_AUTH_USER.exec(line)?.[1];
    if (user !== undefined) f.user = user;
  } else {
    return undefined;
  }
  if (AUTH_FAILURE.test(line)) {
    f.outcome = 'failure';
    f.action = 'login';
  } else if (AUTH_SUCCESS.test(line)) {
    f.outcome = 'success';
    f.action = 'login';
  }
  return { status: 'partial', fields: f, issue: 'error log line, not an access log' };
}

function setClient(f: AccessFields, raw: string): void {
  const { host, port } = splitHostPort(raw);
  if (!isAddress(host)) return;
  f.client = host;
  if (port !== undefined) f.clientPort = port;
}
