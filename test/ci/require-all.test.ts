// CI cannot pass by skipping: under VIGIL_REQUIRE_ALL=1 (set by .ci/run) a run
// with a skipped test fails and lists it; .ci/run stops when radosgw does not start.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = process.cwd();

function runProbe(env: NodeJS.ProcessEnv) {
  return spawnSync(process.execPath, [join(root, 'node_modules', 'vitest', 'vitest.mjs'), 'run', '--config', 'test/ci/fixtures/vitest.probe.config.ts'], {
    cwd: root,
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
}

describe('VIGIL_REQUIRE_ALL', () => {
  it('turns skipped tests into a failed run that names them and their reasons', () => {
    const strict = runProbe({ VIGIL_REQUIRE_ALL: '1' });
    expect(strict.status).toBe(1);
    expect(strict.stderr).toContain('VIGIL_REQUIRE_ALL=1: 2 test(s) skipped');
    expect(strict.stderr).toContain('skips.probe.ts > needs something absent');
    expect(strict.stderr).toContain('skips.probe.ts > finds its tool missing at run time (no widget installed)');
    const relaxed = runProbe({ VIGIL_REQUIRE_ALL: '' });
    expect(relaxed.status).toBe(0);
  });

  it('.ci/run sets it for npm test, and fails when radosgw does not start instead of letting the S3 tests skip', () => {
    const ci = readFileSync(join(root, '.ci', 'run'), 'utf8');
    const code = ci.split('\n').filter((l) => !l.trim().startsWith('#')).join('\n');
    expect(code).not.toMatch(/eval "\$\(bash scripts\/s3\/start-rgw\.sh\)"/);
    expect(code).toMatch(/if ! rgw_env=\$\(bash scripts\/s3\/start-rgw\.sh\); then[\s\S]*?exit 1/);
    expect(code).toMatch(/export VIGIL_REQUIRE_ALL=1\nnpm test\n/);
    expect(code).not.toMatch(/will skip/);
    // The README's test command is what CI runs.
    expect(readFileSync(join(root, 'README.md'), 'utf8')).toContain('`npm test`');
  });
});
