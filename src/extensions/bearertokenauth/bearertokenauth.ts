// The `bearertokenauth` extension, like the Collector's: receivers (and the
// telemetry server) that name it in `auth: { authenticator: bearertokenauth }`
// accept only requests carrying one of its tokens:
//   Authorization: Bearer <token>        (gRPC: the `authorization` metadata)
// Tokens come from the config (`token`, or `tokens` during a rotation, usually
// as ${env:NAME}) or from a file (`filename`, one token per line) that is
// re-read when it changes. Comparison is constant-time over SHA-256 digests.
import { readFileSync, statSync } from 'node:fs';
import { z } from 'zod';
import { ConfigError } from '../../config/errors.js';
import { duration } from '../../config/units.js';
import type { Extension, ExtensionFactory } from '../../pipeline/component.js';
import type { AuthOutcome, HeaderLookup, ServerAuthenticator } from '../../security/auth.js';
import { TokenSet, credentialOf, parseTokenFile, tokenProblem } from '../../security/bearer.js';
import { FileWatcher } from '../../security/file-watch.js';
import type { Logger } from '../../telemetry/logger.js';

// Messages never quote a token: a config error must not print the secret it is about.
const token = z.string({ message: 'a token is a string' }).superRefine((t, ctx) => {
  const problem = tokenProblem(t);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

export const bearerTokenAuthConfigSchema = z
  .object({
    /** One accepted token, usually `${env:NAME}`. */
    token: token.optional(),
    /** Several accepted tokens (old and new during a rotation). */
    tokens: z.array(token).min(1, 'list at least one token').optional(),
    /** A file with one token per line, re-read when it changes; must not be readable by group or others. */
    filename: z.string().min(1, 'set filename to the path of the token file').optional(),
    /** How often the file is checked for changes; 0 turns reloading off. */
    reload_interval: duration().default(10_000),
    /** The scheme before the token; empty: the header holds the bare token. */
    scheme: z.string().regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]*$/, 'the scheme is one word, e.g. Bearer').default('Bearer'),
    /** The header (gRPC: metadata key) carrying the credential. */
    header: z
      .string()
      .regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, 'a header name, e.g. authorization')
      .transform((h) => h.toLowerCase())
      .default('authorization'),
  })
  .strict()
  .superRefine((c, ctx) => {
    const sources = [c.token, c.tokens, c.filename].filter((s) => s !== undefined).length;
    if (sources === 0) {
      ctx.addIssue({ code: 'custom', path: ['token'], message: 'set token (e.g. ${env:VIGIL_TOKEN}), tokens, or filename' });
    } else if (sources > 1) {
      ctx.addIssue({ code: 'custom', path: ['filename'], message: 'set only one of token, tokens and filename' });
    }
  });
export type BearerTokenAuthConfig = z.infer<typeof bearerTokenAuthConfigSchema>;

export class BearerTokenAuthExtension implements Extension, ServerAuthenticator {
  readonly serverAuthenticator = true as const;
  private tokens: TokenSet;
  private readonly watcher: FileWatcher | undefined;

  constructor(
    private readonly config: BearerTokenAuthConfig,
    private readonly id: string,
    private readonly logger: Logger,
  ) {
    // The file is read here, not in start(): whichever component starts first can already rely on the tokens.
    this.tokens = config.filename !== undefined ? this.readFile() : new TokenSet(config.tokens ?? (config.token !== undefined ? [config.token] : []));
    if (config.filename !== undefined) {
      this.watcher = new FileWatcher([config.filename], config.reload_interval, () => this.reload());
      this.logger.info({ tokens: this.tokens.size, file: config.filename }, 'bearer tokens loaded');
    }
  }

  describe(): string[] {
    return [];
  }

  async start(): Promise<void> {
    await this.watcher?.start();
  }

  async shutdown(): Promise<void> {
    this.watcher?.stop();
  }

  /** Re-reads the token file now if it changed (the poll does this on its own every reload_interval). */
  checkNow(): Promise<boolean> {
    return this.watcher?.check().catch(() => false) ?? Promise.resolve(false);
  }

  authenticate(header: HeaderLookup): AuthOutcome {
    const value = header(this.config.header);
    const credential = credentialOf(value, this.config.scheme);
    if (credential === undefined) return { ok: false, reason: 'missing' };
    return this.tokens.has(credential) ? { ok: true } : { ok: false, reason: 'invalid' };
  }

  challenge(outcome: AuthOutcome): string {
    const scheme = this.config.scheme || 'Bearer';
    // RFC 6750 §3.1: name the error only when a credential was presented.
    return !outcome.ok && outcome.reason === 'invalid' ? `${scheme} realm="vigil", error="invalid_token"` : `${scheme} realm="vigil"`;
  }

  private reload(): void {
    try {
      this.tokens = this.readFile();
    } catch (err) {
      const issue = err instanceof ConfigError ? err.issues[0].message : (err as Error).message;
      this.logger.error({ file: this.config.filename, err: issue }, 'token file changed but cannot be used; keeping the previous tokens');
      throw err;
    }
    this.logger.info({ tokens: this.tokens.size, file: this.config.filename }, 'bearer tokens reloaded');
  }

  /** Reads and checks the token file; a ConfigError naming the key when it is unusable. */
  private readFile(): TokenSet {
    const file = this.config.filename!;
    const key = `extensions.${this.id}.filename`;
    const fail = (message: string) => new ConfigError([{ path: key, message }]);
    let text: string;
    try {
      const st = statSync(file);
      if (process.platform !== 'win32' && (st.mode & 0o077) !== 0) {
        throw fail(
          `the token file ${file} is accessible by group or others (mode ${(st.mode & 0o777).toString(8).padStart(4, '0')}): run chmod 600 ${file} (in Kubernetes, mount the secret with defaultMode: 0400)`,
        );
      }
      text = readFileSync(file, 'utf8');
    } catch (err) {
      if (err instanceof ConfigError) throw err;
      throw fail(`cannot read the token file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    const tokens = parseTokenFile(text);
    if (tokens.length === 0) throw fail(`the token file ${file} holds no token (one token per line)`);
    for (const [i, t] of tokens.entries()) {
      const problem = tokenProblem(t);
      if (problem) throw fail(`token ${i + 1} of ${file}: ${problem}`);
    }
    return new TokenSet(tokens);
  }
}

export const bearerTokenAuthExtensionFactory: ExtensionFactory<BearerTokenAuthConfig> = {
  kind: 'extension',
  type: 'bearertokenauth',
  configSchema: bearerTokenAuthConfigSchema,
  create: (config, ctx) => new BearerTokenAuthExtension(config, ctx.id, ctx.logger),
};
