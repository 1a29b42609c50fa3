import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AttributeView, networkOf, parseAttrRef } from '../../../src/processors/anomaly/attr-ref.js';
import { ConditionError, parseCondition } from '../../../src/processors/anomaly/filter.js';
import { kv, makeRecord } from '../../helpers/records.js';

const rec = makeRecord({
  attrs: {
    'audit.action': 'login',
    'audit.outcome': 'failure',
    'http.response.status_code': 503,
    'url.path': '/admin/users',
    'user.id': 'alice',
    'client.address': '203.0.113.7',
    'code.text': '42',
  },
});
rec.resource.resource.attributes.push(kv('deployment.environment.name', 'prod'), kv('user.id', 'from-resource'));
const view = AttributeView.of(rec);

describe('conditions (where: / ratio:)', () => {
  const yes = (src: string) => expect(parseCondition(src)(view), src).toBe(true);
  const no = (src: string) => expect(parseCondition(src)(view), src).toBe(false);

  it('compares strings, numbers and numeric strings', () => {
    yes('audit.action == "login" and audit.outcome == "failure"');
    yes("audit.action == 'login'");
    yes('http.response.status_code >= 500');
    no('http.response.status_code < 500');
    yes('http.response.status_code != 200');
    yes('code.text == 42');
    yes('code.text > 41.5');
    no('audit.action == "logout"');
  });

  it('in, matches (glob, list), exists, not, or, parentheses and precedence', () => {
    yes('http.response.status_code in [500, 502, 503]');
    no('user.id in ["bob", "carol"]');
    yes('url.path matches "/admin*"');
    yes('url.path matches ["/internal/*", "/admin/*"]');
    no('url.path matches "/admin"');
    yes('url.path matches "/admin/use?s"');
    yes('user.id exists');
    no('session.id exists');
    yes('not session.id exists');
    yes('audit.action == "x" or audit.outcome == "failure" and user.id == "alice"');
    no('(audit.action == "x" or audit.outcome == "failure") and user.id == "bob"');
    yes('not (user.id == "bob")');
  });

  it('falls back across alternatives and reads resource attributes', () => {
    yes('http.route|url.path == "/admin/users"');
    yes('deployment.environment.name == "prod"');
    yes('net(client.address) == "203.0.113.0/24"');
  });

  it('a comparison against an absent attribute is false, whatever the operator', () => {
    no('session.id == "x"');
    no('session.id != "x"');
    no('session.id < 3');
    no('session.id in ["x"]');
    no('session.id matches "*"');
  });

  it('reports syntax errors with the column and a hint', () => {
    const err = (src: string) => {
      try {
        parseCondition(src);
      } catch (e) {
        expect(e).toBeInstanceOf(ConditionError);
        return (e as Error).message;
      }
      throw new Error(`no error for ${src}`);
    };
    expect(err('audit.action = "login"')).toMatch(/use == to compare \(at column 14\)/);
    expect(err('audit.action == login')).toMatch(/quote strings: "login"/);
    expect(err('audit.action == "login" audit.outcome == "x"')).toMatch(/join conditions with and \/ or/);
    expect(err('audit.action == "x')).toMatch(/unterminated string/);
    expect(err('(user.id == "a"')).toMatch(/expected "\)"/);
    expect(err('user.id > true')).toMatch(/does not apply to true\/false/);
    expect(err('user..id == "a" and bad(name) == 1')).toMatch(/unknown function bad\(\)/);
    expect(err('')).toMatch(/empty condition/);
    expect(err('user.id ~ "a"')).toMatch(/unexpected character "~"/);
  });
});

describe('attribute references', () => {
  it('parses names, alternatives and net()', () => {
    expect(parseAttrRef('http.route|url.path').get(view)).toBe('/admin/users');
    expect(parseAttrRef('user.id').get(view)).toBe('alice'); // the record's attribute wins over the resource's
    expect(view.has('user.id')).toBe(true);
    expect(view.has('deployment.environment.name')).toBe(false);
    expect(() => parseAttrRef('bad name')).toThrow(/not an attribute name/);
    expect(() => parseAttrRef('')).toThrow(/empty/);
  });

  it('net() gives the /24 or /48 network', () => {
    expect(networkOf('192.0.2.55')).toBe('192.0.2.0/24');
    expect(networkOf('2001:db8:abcd:12::1')).toBe('2001:db8:abcd::/48');
    expect(networkOf('2001:db8::1')).toBe('2001:db8:0::/48');
    expect(networkOf('::ffff:198.51.100.9')).toBe('198.51.100.0/24');
    expect(networkOf('[2001:db8:1:2::3]')).toBe('2001:db8:1::/48');
    expect(networkOf('not-an-ip')).toBeUndefined();
    expect(networkOf(42)).toBeUndefined();
  });
});

describe('conditions under arbitrary input', () => {
  it('any text either parses into a predicate that never throws, or is refused with a ConditionError', () => {
    const pieces = fc.constantFrom('user.id', 'http.route|url.path', 'net(client.address)', '==', '!=', '<', '>=', 'in', 'matches', 'exists', 'and', 'or', 'not', '(', ')', '[', ']', ',', '"x"', "'/a*'", '42', '-1.5e3', 'true', '"', '=', '~', ' ');
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.array(pieces, { maxLength: 12 }).map((xs) => xs.join(' '))), (src) => {
        let p;
        try {
          p = parseCondition(src);
        } catch (e) {
          expect(e).toBeInstanceOf(ConditionError);
          return;
        }
        expect(typeof p(view)).toBe('boolean');
      }),
      { numRuns: 2000, seed: 42 },
    );
  });
});
