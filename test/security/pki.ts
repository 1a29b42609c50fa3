// A throwaway PKI for TLS tests, made with the real openssl CLI at test time:
// a CA, server certificates for 127.0.0.1/localhost, a client certificate,
// and a second, untrusted CA with its own client. Keys are chmod 600.
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';

export interface Pair {
  cert: string;
  key: string;
}

export interface Pki {
  dir: string;
  ca: string;
  server: Pair;
  client: Pair;
  /** A CA the servers do not trust, and a client certificate it signed. */
  rogueCa: string;
  rogueClient: Pair;
  /** Issues another server certificate (same CA) with this common name into new files. */
  issueServer(cn: string): Pair;
}

function openssl(dir: string, ...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

function makeCa(dir: string, name: string): { cert: string; key: string } {
  const cert = join(dir, `${name}.pem`);
  const key = join(dir, `${name}.key`);
  openssl(dir, 'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert,
    '-days', '2', '-subj', `/CN=${name}`, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  chmodSync(key, 0o600);
  return { cert, key };
}

function issue(dir: string, ca: { cert: string; key: string }, name: string, cn: string, usage: 'serverAuth' | 'clientAuth'): Pair {
  const key = join(dir, `${name}.key`);
  const csr = join(dir, `${name}.csr`);
  const cert = join(dir, `${name}.pem`);
  const ext = join(dir, `${name}.ext`);
  const san = usage === 'serverAuth' ? 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' : '';
  writeFileSync(ext, `${san}extendedKeyUsage=${usage}\nbasicConstraints=CA:FALSE\n`);
  openssl(dir, 'req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', csr, '-subj', `/CN=${cn}`);
  openssl(dir, 'x509', '-req', '-in', csr, '-CA', ca.cert, '-CAkey', ca.key, '-CAcreateserial', '-out', cert, '-days', '2', '-extfile', ext);
  chmodSync(key, 0o600);
  return { cert, key };
}

export function makePki(dir: string): Pki {
  const ca = makeCa(dir, 'ca');
  const rogue = makeCa(dir, 'rogue-ca');
  let n = 0;
  return {
    dir,
    ca: ca.cert,
    server: issue(dir, ca, 'server', 'vigil-test-server', 'serverAuth'),
    client: issue(dir, ca, 'client', 'vigil-test-client', 'clientAuth'),
    rogueCa: rogue.cert,
    rogueClient: issue(dir, rogue, 'rogue-client', 'rogue-client', 'clientAuth'),
    issueServer: (cn) => issue(dir, ca, `server-${++n}`, cn, 'serverAuth'),
  };
}

/** Replaces `target`'s content with `source`'s the way a rotation does: write aside, then rename over. */
export function replaceFile(source: string, target: string): void {
  const tmp = `${target}.new`;
  copyFileSync(source, tmp);
  chmodSync(tmp, 0o600);
  renameSync(tmp, target);
}

export const read = (p: string): Buffer => readFileSync(p);

export function fingerprintOf(certFile: string): string {
  return new X509Certificate(readFileSync(certFile)).fingerprint256;
}
