// A failure while starting, told in config terms: which key holds the address
// that is taken, and what to do about it.
import type { VigilConfig } from '../config/load.js';
import { ConfigError, joinPath } from '../config/errors.js';

/** The config keys whose value is exactly `value` (an endpoint, a path). */
export function keysWithValue(config: VigilConfig, value: string): string[] {
  const out: string[] = [];
  const walk = (v: unknown, path: string, depth: number): void => {
    if (v === value) out.push(path);
    if (!v || typeof v !== 'object' || depth > 12) return;
    for (const [k, e] of Object.entries(v)) walk(e, joinPath(path, k), depth + 1);
  };
  for (const section of ['receivers', 'exporters', 'extensions'] as const) {
    for (const [id, c] of config[section]) walk(c.config, joinPath(section, id), 0);
  }
  if (config.service.telemetry.metrics.address === value) out.push('service.telemetry.metrics.address');
  return out;
}

/** `host:port` of an EADDRINUSE anywhere in the error's message or cause chain. */
function addressInUse(err: unknown): string | undefined {
  for (let e = err as { message?: string; cause?: unknown; code?: string } | undefined, i = 0; e && i < 5; e = e.cause as typeof e, i++) {
    const m = /EADDRINUSE[^\n]*?(\[[0-9a-fA-F:.]+\]:\d+|[\w.-]*:\d+)\s*$/m.exec(e.message ?? '');
    if (m) return m[1];
  }
  return undefined;
}

/** Every string value of the components' config (with its key), for finding the one an error message quotes. */
function stringValues(config: VigilConfig): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const walk = (v: unknown, path: string, depth: number): void => {
    if (typeof v === 'string') out.set(v, [...(out.get(v) ?? []), path]);
    if (!v || typeof v !== 'object' || depth > 12) return;
    for (const [k, e] of Object.entries(v)) walk(e, joinPath(path, k), depth + 1);
  };
  for (const section of ['receivers', 'processors', 'exporters', 'extensions'] as const) {
    for (const [id, c] of config[section]) walk(c.config, joinPath(section, id), 0);
  }
  return out;
}

/** The error to show for a start-up failure: the original, or one that names the key and the fix. */
export function explainStartError(err: unknown, config: VigilConfig): unknown {
  // Config errors already name their keys (and exit 2): passed on as they are.
  if (err instanceof ConfigError) return err;
  const addr = addressInUse(err);
  if (!addr) {
    // A message that quotes a configured path or name (a missing key file, say) gets that key in front.
    const message = (err as Error)?.message;
    if (typeof message !== 'string' || /^[\w.\/-]+: /.test(message)) return err;
    const quoted = [...stringValues(config)].filter(([v]) => v.length >= 4 && /[/.]/.test(v) && message.includes(v)).sort((a, b) => b[0].length - a[0].length)[0];
    return quoted ? new Error(`${quoted[1].join(', ')}: ${message}`, { cause: err }) : err;
  }
  const keys = keysWithValue(config, addr);
  const port = addr.slice(addr.lastIndexOf(':') + 1);
  const where = keys.length > 0 ? keys.join(', ') : 'its endpoint';
  return new Error(
    `${where}: ${addr} is already in use. Another Vigil running? Stop it (find the owner with \`ss -ltnp 'sport = :${port}'\`), or set ${where} to a free port.`,
    { cause: err },
  );
}
