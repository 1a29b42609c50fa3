// The container image's inputs: a build context without secrets or host
// dependencies, nothing shipped that is not run, the licence, and a config that
// answers nobody on 0.0.0.0 without the bearer token (run for real, on free ports).
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startVigilProcess } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

const root = process.cwd();
const read = (f: string) => readFileSync(join(root, f), 'utf8');

describe('container image', () => {
  it('.dockerignore keeps dependencies, data, keys, history, benchmarks and fuzzers out of the build context', () => {
    const ignored = read('.dockerignore').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
    for (const p of ['node_modules', 'vigil-data', '**/*.key', '**/*.pem', '.git', 'bench', 'src/fuzz', 'dist']) expect(ignored, p).toContain(p);
  });

  it('the Dockerfile ships no bench/ or src/fuzz, carries OCI labels and the licence', () => {
    const df = read('Dockerfile');
    expect(df).not.toMatch(/COPY\s+bench/);
    expect(df).not.toMatch(/COPY\s+src\/fuzz/);
    for (const label of ['title', 'description', 'licenses="Apache-2.0"', 'version']) expect(df).toContain(`org.opencontainers.image.${label}`);
    expect(df).toMatch(/COPY package\.json LICENSE/);
  });

  it('LICENSE is the Apache License 2.0 that package.json names', () => {
    expect(JSON.parse(read('package.json')).license).toBe('Apache-2.0');
    const text = read('LICENSE');
    expect(text).toMatch(/Apache License\s+Version 2\.0, January 2004/);
    expect(text).toContain('TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION');
    expect(text).toContain('END OF TERMS AND CONDITIONS');
  });

  it('vigil.container.yaml refuses requests without VIGIL_TOKEN on the receivers and the status page', async () => {
    const dir = tempDir('vigil-container-');
    const token = 'container-test-token-0123456789';
    // The image's config as shipped; only its addresses and directories are moved (the --set a user would write).
    const sets = [
      'receivers::otlp::protocols::grpc::endpoint=127.0.0.1:0',
      'receivers::otlp::protocols::http::endpoint=127.0.0.1:0',
      'service::telemetry::metrics::address=127.0.0.1:0',
      'extensions::health_check::endpoint=127.0.0.1:0',
      `processors::anomaly::state::directory=${dir}/anomaly`,
      `exporters::worm::directory=${dir}/archive`,
      `exporters::worm::signing::key_file=${dir}/keys/archive.key`,
    ].flatMap((s) => ['--set', s]);
    const v = await startVigilProcess(['run', '--config', join(root, 'config', 'vigil.container.yaml'), ...sets], { env: { VIGIL_TOKEN: token } });
    try {
      const out = v.stdout();
      const http = /OTLP\/HTTP (\S+)/.exec(out)![1];
      const status = /status\s+(\S+)/.exec(out)![1];
      const post = (auth?: string) =>
        fetch(http, { method: 'POST', headers: { 'content-type': 'application/json', ...(auth ? { authorization: auth } : {}) }, body: '{"resourceLogs":[]}' });
      expect((await post()).status).toBe(401);
      expect((await post(`Bearer ${token}`)).status).toBe(200);
      expect((await fetch(status)).status).toBe(401);
      expect((await fetch(new URL('/status.json', status))).status).toBe(401);
      expect((await fetch(new URL('/status.json', status), { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    } finally {
      v.child.kill('SIGTERM');
      await v.exited;
    }
  });
});
