// The archive signing key (worm) and the pseudonymisation key (audit) must
// not be readable by group or others: `vigil run` refuses to start, naming
// the file and the fix. With mode 0600 (or 0400) it starts.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { startVigilProcess, vigilSync } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

const dir = tempDir('vigil-keyfiles-');
const signingKey = join(dir, 'keys', 'archive.key');
const pseudonymKey = join(dir, 'pseudonym.key');

function config(name: string): string {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(
    file,
    `
receivers: { otlp: { protocols: { http: { endpoint: 127.0.0.1:0 } } } }
processors: { audit: { pseudonymisation: { key_file: ${pseudonymKey} } } }
exporters:
  worm: { directory: ${join(dir, 'archive')}, signing: { key_file: ${signingKey}, generate: false } }
service:
  telemetry: { metrics: { address: null } }
  pipelines: { logs: { receivers: [otlp], processors: [audit], exporters: [worm] } }
`,
  );
  return file;
}

beforeAll(() => {
  mkdirSync(join(dir, 'keys'), { recursive: true });
  execFileSync('openssl', ['genpkey', '-algorithm', 'ed25519', '-out', signingKey]);
  writeFileSync(pseudonymKey, `${randomBytes(32).toString('base64')}\n`);
});

describe('key file permissions', () => {
  it('refuses a pseudonymisation key file readable by others', () => {
    chmodSync(signingKey, 0o600);
    chmodSync(pseudonymKey, 0o644);
    const r = vigilSync(['run', '--config', config('pseudonym')], { cwd: dir });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/processors\.audit\.pseudonymisation\.key_file: .*pseudonym\.key is accessible by group or others \(mode 0644\): run chmod 600/);
  });

  it('refuses an archive signing key readable by group', () => {
    chmodSync(signingKey, 0o640);
    chmodSync(pseudonymKey, 0o600);
    const r = vigilSync(['run', '--config', config('signing')], { cwd: dir });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/signing key .*archive\.key is accessible by group or others \(mode 640\): run chmod 600/);
  });

  it('starts with both keys private (0600 / 0400)', async () => {
    chmodSync(signingKey, 0o600);
    chmodSync(pseudonymKey, 0o400);
    const v = await startVigilProcess(['run', '--config', config('ok')], { cwd: dir });
    v.child.kill('SIGTERM');
    expect(await v.exited).toBe(0);
  });
});
