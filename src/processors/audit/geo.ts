// Country of a client address, offline: an MMDB database read with `maxmind`
// (the packaged @ip-location-db/geo-whois-asn-country-mmdb by default, or the
// user's GeoLite2-Country / DB-IP file). Private, loopback and reserved ranges
// and host names get no country and cost no lookup; results (misses included)
// are kept in a bounded cache, since a few addresses make most of the traffic.
import { readFileSync, type Stats, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { GenerationalCache } from './cache.js';
import { Reader, type Response } from 'maxmind';
import { isPublicIp, unmapIpv4 } from './ip.js';

const require = createRequire(import.meta.url);

/** The database shipped in the npm package `@ip-location-db/geo-whois-asn-country-mmdb` (IPv4 + IPv6). */
export function packagedDatabasePath(): string {
  const pkg = require.resolve('@ip-location-db/geo-whois-asn-country-mmdb/package.json');
  return pkg.replace(/package\.json$/, 'geo-whois-asn-country.mmdb');
}

/** The record shapes of the supported databases: ip-location-db (`country_code`) and MaxMind/DB-IP (`country.iso_code`). */
interface CountryRecord {
  country_code?: string;
  country?: { iso_code?: string };
  registered_country?: { iso_code?: string };
}

const NONE = '';

/** Readers by file (path, size, mtime): several audit processors share one copy of an unchanged database. */
const readers = new Map<string, Reader<Response>>();

function openReader(path: string): Reader<Response> {
  let st: Stats;
  try {
    st = statSync(path);
  } catch (err) {
    throw new Error(`cannot read the geo database ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const id = `${path}\u0000${st.size}\u0000${st.mtimeMs}`;
  const cached = readers.get(id);
  if (cached) return cached;
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new Error(`cannot read the geo database ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  let reader: Reader<Response>;
  try {
    reader = new Reader<Response>(bytes);
  } catch (err) {
    throw new Error(`${path} is not an MMDB database (a GeoLite2-Country, DB-IP or ip-location-db .mmdb file): ${(err as Error).message}`);
  }
  for (const key of readers.keys()) if (key.startsWith(`${path}\u0000`)) readers.delete(key);
  readers.set(id, reader);
  return reader;
}

export class GeoLookup {
  private readonly reader: Reader<Response>;
  private readonly cache: GenerationalCache<string, string>;
  hits = 0;
  misses = 0;

  /** Throws with a readable message when the file is missing or not an MMDB database. */
  constructor(
    readonly path: string,
    cacheSize: number,
  ) {
    this.reader = openReader(path);
    this.cache = new GenerationalCache<string, string>(cacheSize);
  }

  /** A short description for logs: database type and build date. */
  describe(): string {
    const m = this.reader.metadata;
    return `${m.databaseType} built ${m.buildEpoch.toISOString().slice(0, 10)} (${this.path})`;
  }

  /** ISO 3166-1 alpha-2 country of an IP literal, or undefined (private, reserved, unknown, not an IP). */
  country(address: string): string | undefined {
    const cached = this.cache.get(address);
    if (cached !== undefined) {
      this.hits++;
      return cached === NONE ? undefined : cached;
    }
    this.misses++;
    const found = this.lookup(address);
    this.cache.set(address, found ?? NONE);
    return found;
  }

  private lookup(address: string): string | undefined {
    if (address.length > 64 || !isPublicIp(address)) return undefined;
    let rec: CountryRecord | null;
    try {
      rec = this.reader.get(unmapIpv4(address)) as CountryRecord | null;
    } catch {
      return undefined;
    }
    const code = rec?.country?.iso_code ?? rec?.country_code ?? rec?.registered_country?.iso_code;
    return typeof code === 'string' && /^[A-Z]{2}$/.test(code) ? code : undefined;
  }
}
