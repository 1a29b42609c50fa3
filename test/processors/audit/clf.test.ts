import { describe, expect, it } from 'vitest';
import { parseClf } from '../../../src/processors/audit/clf.js';
import { corpusLines, haveCorpora } from './corpora.js';

describe('CLF/Combined parser: the clean corpora', () => {
  it.skipIf(!haveCorpora)('parses every line of elastic-apache_logs.combined ok (10,000)', () => {
    const lines = corpusLines('elastic-apache_logs.combined');
    expect(lines).toHaveLength(10_000);
    const bad = lines.map((l, i) => [i + 1, parseClf(l)] as const).filter(([, r]) => r?.status !== 'ok');
    expect(bad.slice(0, 5)).toEqual([]);
  });

  it.skipIf(!haveCorpora)('parses every line of javagrok-access_log.common ok (1,536, CRLF)', () => {
    const lines = corpusLines('javagrok-access_log.common');
    expect(lines).toHaveLength(1536);
    const bad = lines.map((l, i) => [i + 1, parseClf(`${l}\r\n`)] as const).filter(([, r]) => r?.status !== 'ok');
    expect(bad.slice(0, 5)).toEqual([]);
  });

  it.skipIf(!haveCorpora)('reads the hand-checked lines of the Combined corpus exactly', () => {
    const lines = corpusLines('elastic-apache_logs.combined');
    // line 1: a plain Combined line
    expect(parseClf(lines[0])).toEqual({
      status: 'ok',
      fields: {
        client: '83.149.9.216',
        timeMs: Date.UTC(2015, 4, 17, 10, 5, 3),
        method: 'GET',
        target: '/presentations/logstash-monitorama-2013/images/kibana-search.png',
        path: '/presentations/logstash-monitorama-2013/images/kibana-search.png',
        protocol: 'HTTP/1.1',
        status: 200,
        size: 203023,
        referer: 'http://semicomplete.com/presentations/logstash-monitorama-2013/',
        userAgent: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_9_1) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/32.0.1700.77 Safari/537.36',
      },
    });
    // line 77: `-` size (Apache %b: no body bytes) and a `-` referer
    expect(parseClf(lines[76])).toEqual({
      status: 'ok',
      fields: {
        client: '218.30.103.62',
        timeMs: Date.UTC(2015, 4, 17, 11, 5, 11),
        method: 'GET',
        target: '/robots.txt',
        path: '/robots.txt',
        protocol: 'HTTP/1.1',
        status: 200,
        size: 0,
        userAgent: 'Sogou web spider/4.0(+http://www.sogou.com/docs/help/webmasters.htm#07)',
      },
    });
    // line 5851: a referer with \xNN escapes, kept as the server wrote it
    const escaped = parseClf(lines[5850])!;
    expect(escaped.status).toBe('ok');
    expect(escaped.fields.referer).toBe(String.raw`http://\xe4\xe5\xe3\xf2\xff\xf0\xed\xee\xe5-\xec\xfb\xeb\xee.\xf0\xf4/`);
    expect(escaped.fields.userAgent).toBe('Mozilla/5.0 (Windows NT 6.1; rv:11.0) Gecko/20100101 Firefox/11.0');
    expect(escaped.fields.protocol).toBe('HTTP/1.0');
    expect(escaped.fields.path).toBe('/files/logstash/');
    // line 8899: the User-Agent that lost its closing quote runs to the line end
    const broken = parseClf(lines[8898])!;
    expect(broken.status).toBe('ok');
    expect(broken.fields.userAgent).toBe('Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html');
    expect(broken.fields.referer).toBeUndefined();
    expect(broken.fields.size).toBe(235);
  });

  it.skipIf(!haveCorpora)('reads the hand-checked lines of the Common corpus exactly (time zone -0800 → UTC)', () => {
    const lines = corpusLines('javagrok-access_log.common');
    expect(parseClf(lines[0])).toEqual({
      status: 'ok',
      fields: {
        client: '64.242.88.10',
        timeMs: Date.UTC(2004, 2, 8, 0, 5, 49),
        method: 'GET',
        target: '/twiki/bin/edit/Main/Double_bounce_sender?topicparent=Main.ConfigurationVariables',
        path: '/twiki/bin/edit/Main/Double_bounce_sender',
        query: 'topicparent=Main.ConfigurationVariables',
        protocol: 'HTTP/1.1',
        status: 401,
        size: 12846,
      },
    });
    // line 96: a host name as the client, `OPTIONS *`, `-` size, CRLF
    expect(parseClf(`${lines[95]}\r`)).toEqual({
      status: 'ok',
      fields: {
        client: '80-219-148-207.dclient.hispeed.ch',
        timeMs: Date.UTC(2004, 2, 8, 3, 47, 36),
        method: 'OPTIONS',
        target: '*',
        path: '*',
        protocol: 'HTTP/1.0',
        status: 200,
        size: 0,
      },
    });
  });
});

describe('CLF/Combined parser: extensions and hostile lines', () => {
  it('reads a vhost prefix with a port, and the user', () => {
    const r = parseClf('website.com:443 1.2.3.4 - alice [25/Oct/2021:11:05:52 +0200] "GET /web/.well-known HTTP/1.1" 403 6963 "abc.com" "User-agent-string"')!;
    expect(r.status).toBe('ok');
    expect(r.fields).toMatchObject({ serverAddress: 'website.com', serverPort: 443, client: '1.2.3.4', user: 'alice', timeMs: Date.UTC(2021, 9, 25, 9, 5, 52) });
  });

  it('reads through a syslog prefix', () => {
    const r = parseClf('Sep 15 16:13:46 ip-172-31-43-28.us-east-2.compute.internal nginx[2869]: 81.150.104.130 - - [15/Sep/2021:16:13:46 +0000] "POST /wp-login.php HTTP/1.1" 200 5364 "-" "Mozilla/5.0"')!;
    expect(r.status).toBe('ok');
    expect(r.fields).toMatchObject({ client: '81.150.104.130', method: 'POST', path: '/wp-login.php', status: 200, size: 5364 });
    expect(r.fields.serverAddress).toBeUndefined();
  });

  it('reads IPv6 clients, empty quoted fields and nginx request_time', () => {
    const r = parseClf('2001:db8:1:2:3:4:5:6 - - [18/Jul/2025:14:14:47 -0400] "GET /a.sql HTTP/2.0" 200 52 "" "" 0.004')!;
    expect(r.status).toBe('ok');
    expect(r.fields).toMatchObject({ client: '2001:db8:1:2:3:4:5:6', timeMs: Date.UTC(2025, 6, 18, 18, 14, 47), durationS: 0.004 });
    expect(r.fields.userAgent).toBeUndefined();
    expect(r.fields.referer).toBeUndefined();
  });

  it('keeps backslash-escaped quotes inside the request', () => {
    const r = parseClf(String.raw`172.17.0.1 - - [29/Sep/2021:12:37:05 +0000] "GET /box.inc.php?config[\\\"sipssys\\\"]=http://cirt.net/rfiinc.txt? HTTP/1.1" 404 196`)!;
    expect(r.status).toBe('ok');
    expect(r.fields.path).toBe('/box.inc.php');
    expect(r.fields.query).toBe(String.raw`config[\\\"sipssys\\\"]=http://cirt.net/rfiinc.txt?`);
    expect(r.fields.status).toBe(404);
  });

  it('survives an unescaped quote inside the request', () => {
    const r = parseClf('1.2.3.4 - - [01/Jan/2024:00:00:00 +0000] "GET /a"b HTTP/1.1" 200 5 "-" "ua"')!;
    expect(r.status).toBe('ok');
    expect(r.fields.target).toBe('/a"b');
    expect(r.fields.userAgent).toBe('ua');
  });

  it('marks TLS bytes as the request partial, keeping client, time and status', () => {
    const r = parseClf(String.raw`1.2.3.4 - - [17/Oct/2023:05:57:49 +1100] "\x16\x03\x01\x01 \x02" 400 226 "-" "-"`)!;
    expect(r.status).toBe('partial');
    expect(r.issue).toBe('request line is not METHOD TARGET PROTOCOL');
    expect(r.fields).toEqual({ client: '1.2.3.4', timeMs: Date.UTC(2023, 9, 16, 18, 57, 49), status: 400, size: 226 });
  });

  it('marks a missing ident/user field partial', () => {
    const r = parseClf('192.168.1.1 - [08/Jun/2020:08:04:43 +0000] "GET /api/test HTTP/1.1" 200 100 "-" "curl/7.68.0"')!;
    expect(r.status).toBe('partial');
    expect(r.fields).toMatchObject({ client: '192.168.1.1', method: 'GET', path: '/api/test', status: 200 });
  });

  it('returns undefined for text without a CLF time', () => {
    expect(parseClf('hello world')).toBeUndefined();
    expect(parseClf('')).toBeUndefined();
  });

  it('rejects an impossible time and an unterminated request without throwing', () => {
    expect(parseClf('1.2.3.4 - - [40/Foo/2020:25:00:00 +0000] "GET / HTTP/1.1" 200 1')?.status).toBe('partial');
    const r = parseClf('1.2.3.4 - - [01/Jan/2020:00:00:00 +0000] "GET / HTTP/1.1')!;
    expect(r.status).toBe('partial');
    expect(r.fields.method).toBe('GET');
  });
});
