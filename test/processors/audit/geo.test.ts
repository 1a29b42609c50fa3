import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GeoLookup, packagedDatabasePath } from '../../../src/processors/audit/geo.js';
import { formatIpv6, ipv6Groups, isPublicIp, truncateIp } from '../../../src/processors/audit/ip.js';
import { tempDir } from '../../helpers/tmp.js';
import { attrsOf, auditProcessor, record } from './helpers.js';

describe('IP classification', () => {
  it('calls private, loopback, link-local, CGNAT, documentation, multicast and reserved ranges non-public', () => {
    for (const ip of [
      '10.1.2.3', '172.16.0.1', '172.31.255.255', '192.168.1.1', '127.0.0.1', '169.254.1.1', '100.64.0.1', '0.0.0.0',
      '192.0.2.5', '198.51.100.7', '203.0.113.1', '198.18.0.1', '224.0.0.1', '240.0.0.1', '255.255.255.255',
      '::1', '::', 'fe80::1', 'fc00::1', 'fd12:3456::1', 'ff02::1', '2001:db8::1', '2001:db8:1:2:3:4:5:6', '2002:c000:204::1', '2001::1', '::ffff:10.0.0.1',
      'not-an-ip', 'example.com', '1.2.3', '1.2.3.256', '',
    ]) expect(isPublicIp(ip), ip).toBe(false);
    for (const ip of ['8.8.8.8', '83.149.9.216', '172.32.0.1', '2a00:1450:4001:81b::200e', '2606:4700::1111', '::ffff:8.8.4.4']) expect(isPublicIp(ip), ip).toBe(true);
  });

  it('expands and formats IPv6 per RFC 5952, and truncates to /24 and /48', () => {
    expect(ipv6Groups('2001:db8::1')).toEqual([0x2001, 0xdb8, 0, 0, 0, 0, 0, 1]);
    expect(ipv6Groups('::ffff:1.2.3.4')).toEqual([0, 0, 0, 0, 0, 0xffff, 0x102, 0x304]);
    expect(formatIpv6([0x2001, 0xdb8, 0, 0, 1, 0, 0, 1])).toBe('2001:db8::1:0:0:1');
    expect(truncateIp('83.149.9.216', 24, 48)).toBe('83.149.9.0');
    expect(truncateIp('::ffff:83.149.9.216', 24, 48)).toBe('83.149.9.0');
    expect(truncateIp('2a00:1450:4001:81b::200e', 24, 48)).toBe('2a00:1450:4001::');
    expect(truncateIp('2a00:1450:4001:81b::200e', 24, 56)).toBe('2a00:1450:4001:800::');
    expect(truncateIp('10.9.8.7', 16, 48)).toBe('10.9.0.0');
    expect(truncateIp('host.example.com', 24, 48)).toBeUndefined();
  });
});

describe('geo lookup (packaged database)', () => {
  const geo = new GeoLookup(packagedDatabasePath(), 1000);

  it('gives public IPv4 and IPv6 addresses a country', () => {
    expect(geo.country('83.149.9.216')).toBe('RU');
    expect(geo.country('8.8.8.8')).toBe('US');
    expect(geo.country('81.150.104.130')).toBe('GB');
    expect(geo.country('2a00:1450:4001:81b::200e')).toMatch(/^[A-Z]{2}$/);
    expect(geo.country('::ffff:8.8.8.8')).toBe('US');
  });

  it('gives private, loopback and reserved addresses and host names none, and caches', () => {
    for (const a of ['10.0.0.1', '127.0.0.1', '192.168.0.1', '::1', '2001:db8::1', 'fe80::1', 'lordgun.org', '']) expect(geo.country(a), a).toBeUndefined();
    const hits = geo.hits;
    expect(geo.country('83.149.9.216')).toBe('RU');
    expect(geo.hits).toBe(hits + 1);
    expect(geo.describe()).toMatch(/^country ipvAll built \d{4}-\d\d-\d\d \(/);
  });

  it('looks up the real address before pseudonymisation replaces it', () => {
    const [r] = [record('83.149.9.216 - - [17/May/2015:10:05:03 +0000] "GET / HTTP/1.1" 200 1')];
    auditProcessor({ pseudonymisation: { key_env: 'K' } }, { K: 'k'.repeat(32) }).process([r]);
    const a = attrsOf(r);
    expect(a['geo.country.iso_code']).toBe('RU');
    expect(a['client.address']).toMatch(/^ps_[A-Za-z0-9_-]{22}$/);
  });

  it('keeps a country the sender already set, and can be turned off', () => {
    const [r] = [record('83.149.9.216 - - [17/May/2015:10:05:03 +0000] "GET / HTTP/1.1" 200 1', [{ key: 'geo.country.iso_code', value: { stringValue: 'FR' } }])];
    auditProcessor().process([r]);
    expect(attrsOf(r)['geo.country.iso_code']).toBe('FR');
    const [off] = [record('83.149.9.216 - - [17/May/2015:10:05:03 +0000] "GET / HTTP/1.1" 200 1')];
    auditProcessor({ geo: { enabled: false } }).process([off]);
    expect(attrsOf(off)['geo.country.iso_code']).toBeUndefined();
  });

  it('reads a database given in config, and refuses a file that is not MMDB', () => {
    const dir = tempDir('vigil-geo-');
    const copy = join(dir, 'country.mmdb');
    copyFileSync(packagedDatabasePath(), copy);
    expect(new GeoLookup(copy, 10).country('8.8.8.8')).toBe('US');
    const junk = join(dir, 'junk.mmdb');
    writeFileSync(junk, 'not a database');
    expect(() => new GeoLookup(junk, 10)).toThrow(/is not an MMDB database/);
  });
});
