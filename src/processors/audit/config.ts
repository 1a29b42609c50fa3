// The `audit` processor's configuration (processors: { audit: {...} }): every
// block optional with defaults, unknown keys rejected, messages that say how to fix.
import { z } from 'zod';
import { size } from '../../config/units.js';

export const DEFAULT_LOGIN_ROUTES = ['/login', '/signin', '/sign_in', '/sign-in', '/logon', '/oauth/token', '/oauth2/token', '/session', '/sessions', '/wp-login.php'];
export const DEFAULT_LOGOUT_ROUTES = ['/logout', '/signout', '/sign_out', '/sign-out', '/logoff'];
export const DEFAULT_PSEUDONYMISED = ['user.id', 'client.address', 'session.id'];

const STATUS_PATTERN_RE = /^(?:[1-9](?:\d\d|xx|XX)|[1-9]\d\d-[1-9]\d\d)$/;
const statusPattern = z
  .union([z.number().int(), z.string()])
  .transform((v) => String(v))
  .refine((s) => STATUS_PATTERN_RE.test(s), { message: 'a status pattern is a code (401), a class (4xx) or a range (500-599)' });

const routePattern = z.string().refine((s) => s.startsWith('/') && s.length > 1, {
  message: 'a route pattern is a path starting with /, e.g. /login (it matches /login, /api/login, /login.php, /login/…)',
});

const regexString = z.string().refine(
  (s) => {
    try {
      new RegExp(s);
      return true;
    } catch {
      return false;
    }
  },
  { message: 'not a valid regular expression (JavaScript syntax, matched against one whole path segment)' },
);

const method = z.string().regex(/^[A-Za-z]{1,32}$/, 'an HTTP method such as POST').transform((s) => s.toUpperCase());

/** `true`, `/24 /48`, `/24`, or { ipv4: 24, ipv6: 48 } → prefix lengths; false → none. */
const ipTruncation = z
  .union([
    z.boolean(),
    z.string().regex(/^\s*\/(\d{1,2})(?:\s+\/(\d{1,3}))?\s*$/, 'write the prefixes as "/24 /48" (IPv4, then IPv6)'),
    z
      .object({ ipv4: z.number().int().min(0).max(32).default(24), ipv6: z.number().int().min(0).max(128).default(48) })
      .strict(),
  ])
  .transform((v, ctx) => {
    if (v === false) return undefined;
    if (v === true) return { ipv4: 24, ipv6: 48 };
    if (typeof v === 'object') return v;
    const m = /^\s*\/(\d{1,2})(?:\s+\/(\d{1,3}))?\s*$/.exec(v)!;
    const ipv4 = Number(m[1]);
    const ipv6 = m[2] === undefined ? 48 : Number(m[2]);
    if (ipv4 > 32 || ipv6 > 128) {
      ctx.addIssue({ code: 'custom', message: 'prefix lengths are at most /32 for IPv4 and /128 for IPv6' });
      return z.NEVER;
    }
    return { ipv4, ipv6 };
  });

const pseudonymisationSchema = z
  .object({
    enabled: z.boolean().default(true),
    attributes: z.array(z.string().min(1)).min(1, 'list the attributes to pseudonymise, e.g. [user.id, client.address]').default(DEFAULT_PSEUDONYMISED),
    key_file: z.string().min(1).optional(),
    key_env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'the name of an environment variable, e.g. VIGIL_PSEUDONYM_KEY').optional(),
    /** Key rotation: the key being replaced, used until previous_until to add vigil.previous_pseudonym.<attribute>. */
    previous_key_file: z.string().min(1).optional(),
    previous_key_env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'the name of an environment variable, e.g. VIGIL_PSEUDONYM_KEY_OLD').optional(),
    previous_until: z
      .string()
      .refine((s) => Number.isFinite(Date.parse(s)), { message: 'an ISO date or time, e.g. 2026-06-30 or 2026-06-30T00:00:00Z: the end of the overlap' })
      .optional(),
    ip_truncation: ipTruncation.optional(),
    body: z.enum(['replace', 'keep']).default('replace'),
    cache_size: z.number().int().positive().default(100_000),
  })
  .strict()
  .superRefine((p, ctx) => {
    if (!p.enabled) return;
    if (p.key_file === undefined && p.key_env === undefined) {
      ctx.addIssue({ code: 'custom', path: ['key_file'], message: 'pseudonymisation needs a key: set key_file (a file readable only by Vigil) or key_env (an environment variable)' });
    }
    if (p.key_file !== undefined && p.key_env !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['key_env'], message: 'set key_file or key_env, not both' });
    }
    const previous = p.previous_key_file !== undefined || p.previous_key_env !== undefined;
    if (p.previous_key_file !== undefined && p.previous_key_env !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['previous_key_env'], message: 'set previous_key_file or previous_key_env, not both' });
    }
    if (previous && p.previous_until === undefined) {
      ctx.addIssue({ code: 'custom', path: ['previous_until'], message: 'a previous key needs previous_until: when the overlap ends (e.g. 90 days after the rotation)' });
    }
    if (!previous && p.previous_until !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['previous_until'], message: 'previous_until is used only with previous_key_file or previous_key_env' });
    }
  });

export const auditConfigSchema = z
  .object({
    /** deployment.environment.name for records whose record and resource carry none. */
    environment: z.string().min(1).optional(),
    /** Records already enriched by a Vigil (same audit.schema_version, with audit.record_id) pass unchanged. */
    skip_enriched: z.boolean().default(true),
    parse: z
      .object({
        max_body_size: size().default(65_536),
        duration_unit: z.enum(['s', 'ms', 'us', 'ns']).default('s'),
      })
      .strict()
      .prefault({}),
    outcome: z
      .object({
        failure_statuses: z.array(statusPattern).default(['4xx', '5xx']),
        rules: z
          .array(
            z
              .object({
                route: routePattern.optional(),
                methods: z.array(method).optional(),
                statuses: z.array(statusPattern).optional(),
                outcome: z.enum(['success', 'failure', 'unknown']),
              })
              .strict(),
          )
          .default([]),
      })
      .strict()
      .prefault({}),
    action: z
      .object({
        login_routes: z.array(routePattern).default(DEFAULT_LOGIN_ROUTES),
        logout_routes: z.array(routePattern).default(DEFAULT_LOGOUT_ROUTES),
        login_methods: z.array(method).min(1).default(['POST', 'PUT']),
      })
      .strict()
      .prefault({}),
    resource: z
      .object({
        collapse_ids: z.boolean().default(true),
        placeholder: z.string().min(1).default('{id}'),
        id_patterns: z.array(regexString).default([]),
      })
      .strict()
      .prefault({}),
    geo: z
      .object({
        enabled: z.boolean().default(true),
        database: z.string().min(1, 'the path of a .mmdb file (GeoLite2-Country, DB-IP, ip-location-db)').optional(),
        cache_size: z.number().int().positive().default(65_536),
      })
      .strict()
      .prefault({}),
    pseudonymisation: pseudonymisationSchema.optional(),
    limits: z
      .object({
        max_value_length: z.number().int().min(64, 'at least 64 characters').default(4096),
        max_attributes: z.number().int().min(16, 'at least 16').default(128),
        max_depth: z.number().int().min(1).max(32).default(5),
      })
      .strict()
      .prefault({}),
    ocsf: z.object({ enabled: z.boolean().default(true) }).strict().prefault({}),
  })
  .strict();

export type AuditConfig = z.infer<typeof auditConfigSchema>;
