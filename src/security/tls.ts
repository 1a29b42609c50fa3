// Server-side TLS and mTLS, configured like the Collector's configtls
// ServerConfig: cert_file, key_file, client_ca_file, min_version,
// max_version, reload_interval. The files are re-read when they change (new
// connections get the new certificate; open connections keep theirs), and a
// bad new set (a key that does not match its certificate, a half-written
// file) is refused: the server keeps the previous one and says so.
import { X509Certificate } from 'node:crypto';
import { createSecureContext, type SecureContextOptions, type TlsOptions } from 'node:tls';
import { readFileSync, statSync } from 'node:fs';
import { z } from 'zod';
import { ConfigError } from '../config/errors.js';
import { duration } from '../config/units.js';
import type { Logger } from '../telemetry/logger.js';
import { FileWatcher } from './file-watch.js';

/** A client that opens a TCP connection and never finishes the handshake is cut after this long. */
export const HANDSHAKE_TIMEOUT_MS = 10_000;

// YAML reads an unquoted 1.2 as a number: accept both spellings.
const tlsVersion = z.preprocess(
  (v) => (typeof v === 'number' ? v.toFixed(1) : v),
  z.enum(['1.2', '1.3'], { message: 'TLS versions are "1.2" or "1.3" (older ones are not offered)' }),
);

export const tlsServerSchema = z
  .object({
    /** PEM certificate (leaf first, then intermediates) the server presents. */
    cert_file: z.string({ message: 'set cert_file: the PEM certificate (chain) the server presents' }).min(1, 'set cert_file to a PEM file'),
    /** PEM private key of cert_file. */
    key_file: z.string({ message: 'set key_file: the PEM private key of cert_file' }).min(1, 'set key_file to a PEM file'),
    /** CA(s) client certificates must chain to: setting it turns on mTLS (a client without a valid certificate cannot connect). */
    client_ca_file: z.string().min(1, 'set client_ca_file to a PEM file').optional(),
    min_version: tlsVersion.default('1.2'),
    max_version: tlsVersion.optional(),
    /** How often the files are checked for changes; 0 turns reloading off. */
    reload_interval: duration().default(60_000),
    // A Collector habit with a client-side meaning: say which key the server uses instead.
    ca_file: z
      .unknown()
      .refine((v) => v === undefined, 'a server verifies client certificates with client_ca_file (ca_file is a client setting)')
      .optional(),
  })
  .strict()
  .refine((t) => t.max_version === undefined || t.max_version >= t.min_version, {
    path: ['max_version'],
    message: 'max_version must not be below min_version',
  });
export type TlsServerConfig = z.infer<typeof tlsServerSchema>;

interface Material {
  cert: Buffer;
  key: Buffer;
  ca: Buffer | undefined;
}

/** What is safe to log about a certificate (never key material). */
export interface CertificateSummary {
  subject: string;
  not_after: string;
  fingerprint_sha256: string;
}

type Listener = (context: SecureContextOptions) => void;

/**
 * The TLS material of one server: loaded at start, watched for changes,
 * handed to node:tls (https, http2) or grpc-js as options.
 */
export class ServerTls {
  private material: Material | undefined;
  private readonly listeners: Listener[] = [];
  private readonly watcher: FileWatcher;

  /**
   * @param keyPath the config path of this tls block, for messages (`receivers.otlp.protocols.grpc.tls`)
   */
  constructor(
    readonly config: TlsServerConfig,
    private readonly keyPath: string,
    private readonly logger: Logger,
  ) {
    const files = [config.cert_file, config.key_file, ...(config.client_ca_file ? [config.client_ca_file] : [])];
    this.watcher = new FileWatcher(files, config.reload_interval, () => this.reload());
  }

  get mutual(): boolean {
    return this.config.client_ca_file !== undefined;
  }

  /** `TLS` or `mTLS`, for start-up banners. */
  describe(): string {
    return this.mutual ? 'mTLS' : 'TLS';
  }

  /** Reads and checks the files; throws a ConfigError naming the key at fault. */
  load(): void {
    this.material = this.read();
    this.logLoaded('TLS certificate loaded');
  }

  /** Starts watching the files for changes (after load()). */
  async start(): Promise<void> {
    await this.watcher.start();
  }

  stop(): void {
    this.watcher.stop();
  }

  /** Re-reads now if the files changed; true when a new certificate is in use. */
  checkNow(): Promise<boolean> {
    return this.watcher.check().catch(() => false);
  }

  /** Called with new context options whenever the files changed and the new set is valid. */
  onReload(listener: Listener): void {
    this.listeners.push(listener);
  }

  /** The part that changes with the files (node:tls setSecureContext takes exactly this). */
  contextOptions(): SecureContextOptions {
    const m = this.material;
    if (!m) throw new Error(`${this.keyPath}: certificates not loaded`);
    return {
      cert: m.cert,
      key: m.key,
      ...(m.ca ? { ca: m.ca } : {}),
      minVersion: `TLSv${this.config.min_version}` as const,
      ...(this.config.max_version ? { maxVersion: `TLSv${this.config.max_version}` as const } : {}),
    };
  }

  /** Everything a TLS server needs at creation: the context plus client-certificate policy and handshake timeout. */
  serverOptions(): TlsOptions {
    return {
      ...this.contextOptions(),
      requestCert: this.mutual,
      rejectUnauthorized: this.mutual,
      handshakeTimeout: HANDSHAKE_TIMEOUT_MS,
    };
  }

  private async reload(): Promise<void> {
    let next: Material;
    try {
      next = this.read();
    } catch (err) {
      const issue = err instanceof ConfigError ? err.issues[0] : { path: this.keyPath, message: (err as Error).message };
      this.logger.error({ key: issue.path, err: issue.message }, 'TLS files changed but cannot be used; keeping the previous certificate');
      throw err;
    }
    this.material = next;
    const context = this.contextOptions();
    for (const l of this.listeners) l(context);
    this.logLoaded('TLS certificate reloaded');
  }

  private read(): Material {
    const c = this.config;
    const cert = readPem(c.cert_file, `${this.keyPath}.cert_file`);
    const key = readPem(c.key_file, `${this.keyPath}.key_file`);
    const ca = c.client_ca_file ? readPem(c.client_ca_file, `${this.keyPath}.client_ca_file`) : undefined;
    try {
      new X509Certificate(cert);
    } catch (err) {
      throw issue(`${this.keyPath}.cert_file`, `${c.cert_file} is not a PEM certificate (${(err as Error).message})`);
    }
    if (ca) {
      try {
        new X509Certificate(ca);
      } catch (err) {
        throw issue(`${this.keyPath}.client_ca_file`, `${c.client_ca_file} is not a PEM certificate (${(err as Error).message})`);
      }
    }
    try {
      // Fails when the key is not PEM or does not belong to the certificate.
      createSecureContext({ cert, key, ...(ca ? { ca } : {}) });
    } catch (err) {
      throw issue(`${this.keyPath}.key_file`, `${c.key_file} is not the private key of ${c.cert_file} (${(err as Error).message})`);
    }
    warnIfShared(c.key_file, `${this.keyPath}.key_file`, this.logger);
    return { cert, key, ca };
  }

  private logLoaded(msg: string): void {
    const s = summarise(this.material!.cert);
    const now = Date.now();
    const notAfter = Date.parse(s.not_after);
    this.logger.info({ key: this.keyPath, ...s, mtls: this.mutual }, msg);
    if (Number.isFinite(notAfter) && notAfter < now) {
      this.logger.warn({ key: this.keyPath, ...s }, 'the TLS certificate has expired: clients will refuse it');
    }
  }
}

export function summarise(certPem: Buffer): CertificateSummary {
  const x = new X509Certificate(certPem);
  return { subject: x.subject.replace(/\n/g, ', '), not_after: new Date(x.validTo).toISOString(), fingerprint_sha256: x.fingerprint256 };
}

function issue(path: string, message: string): ConfigError {
  return new ConfigError([{ path, message }]);
}

function readPem(file: string, key: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw issue(key, `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/** A private key others can read is a risk worth a warning (not a refusal: mounted secrets are often 0644). */
function warnIfShared(file: string, key: string, logger: Logger): void {
  try {
    const mode = statSync(file).mode;
    if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
      logger.warn({ key, file, mode: (mode & 0o777).toString(8).padStart(4, '0') }, `the TLS private key is readable by group or others: chmod 600 ${file}`);
    }
  } catch {
    // Already read successfully; a stat failure here changes nothing.
  }
}
