// Durations and sizes as operators write them: `5s`, `1m30s`, `400d`, `64MiB`.
import { z } from 'zod';

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const DURATION_RE = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)/;

/** Milliseconds of a duration like `1m30s`; a bare number is milliseconds. */
export function parseDuration(input: string | number): number {
  if (typeof input === 'number') {
    if (!Number.isFinite(input) || input < 0) throw new Error(`invalid duration ${input}`);
    return input;
  }
  let rest = input.trim();
  if (/^\d+(\.\d+)?$/.test(rest)) return Number(rest);
  if (rest === '') throw new Error('empty duration');
  let total = 0;
  while (rest.length > 0) {
    const m = DURATION_RE.exec(rest);
    if (!m) throw new Error(`invalid duration "${input}": use forms like 500ms, 5s, 1m30s, 2h, 400d`);
    total += Number(m[1]) * DURATION_UNITS[m[2]];
    rest = rest.slice(m[0].length);
  }
  return total;
}

const SIZE_UNITS: Record<string, number> = {
  '': 1, b: 1, kb: 1e3, mb: 1e6, gb: 1e9, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3,
};

/** Bytes of a size like `64MiB`; a bare number is bytes. */
export function parseSize(input: string | number): number {
  if (typeof input === 'number') {
    if (!Number.isFinite(input) || input < 0) throw new Error(`invalid size ${input}`);
    return input;
  }
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(input);
  const unit = m?.[2].toLowerCase();
  if (!m || unit === undefined || !(unit in SIZE_UNITS)) throw new Error(`invalid size "${input}": use forms like 512KiB, 64MiB, 1GiB`);
  return Math.floor(Number(m[1]) * SIZE_UNITS[unit]);
}

function unitSchema(parse: (v: string | number) => number) {
  return z.union([z.string(), z.number()]).transform((v, ctx) => {
    try {
      return parse(v);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
      return z.NEVER;
    }
  });
}

/** A duration field: accepts `5s` or a number of ms; yields milliseconds. */
export const duration = () => unitSchema(parseDuration);
/** A size field: accepts `64MiB` or a number of bytes; yields bytes. */
export const size = () => unitSchema(parseSize);

/** host:port, as the Collector writes endpoints. */
export const hostPort = () =>
  z.string().refine((s) => /^(\[[0-9a-fA-F:.]+\]|[^:\s/]*):\d{1,5}$/.test(s) && Number(s.slice(s.lastIndexOf(':') + 1)) <= 65535, {
    message: 'expected host:port, for example 127.0.0.1:4317',
  });

export function splitHostPort(endpoint: string): { host: string; port: number } {
  const i = endpoint.lastIndexOf(':');
  const host = endpoint.slice(0, i).replace(/^\[|\]$/g, '');
  return { host: host === '' ? '0.0.0.0' : host, port: Number(endpoint.slice(i + 1)) };
}
