// The standalone fuzz runner (`npm run fuzz`), run for real from dist/: it
// reports cases, failures and throughput, and catches a contract failure, a
// hang and runaway memory in a target (self-test targets that misbehave on purpose).
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const RUNNER = join(process.cwd(), 'dist', 'src', 'fuzz', 'run.js');
const built = existsSync(RUNNER);
if (!built) console.warn(`skipped: ${RUNNER} is not built (npm test builds it; or run npm run build)`);

function runner(args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(process.execPath, [RUNNER, ...args], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe.skipIf(!built)('fuzz runner', () => {
  it('runs the chosen targets from a seed, reports the answers, and flags a failure, a hang and runaway memory', () => {
    const r = runner(
      ['--target', 'protobuf.mutated', 'selftest.fail', 'selftest.hang', '--cases', '300', '--seed', '7', '--hang-ms', '5000'],
      { VIGIL_FUZZ_SELFTEST: '1' },
    );
    expect(r.code, r.out + r.err).toBe(1);
    expect(r.out).toMatch(/^fuzz: 300 cases over 3 targets, seed 7$/m);
    // Cases are shared by weight: protobuf.mutated 4, each self-test 1.
    expect(r.out).toMatch(/protobuf\.mutated +200 cases {2}accepted \d+, partial \d+, refused \d+ {2}[\d.]+ s {2}[\d,]+ cases\/s {2}slowest \d+ ms\n/);
    // A contract failure: shrunk to the smallest input, with the command that replays it.
    expect(r.out).toMatch(/selftest\.fail .*FAILED\n {4}10 is at least 10\n {4}input: 10\n {4}replay: node dist\/src\/fuzz\/run\.js --target selftest\.fail --seed 7 --path \S+/);
    expect(r.out).toMatch(/selftest\.hang .*FAILED\n {4}hang: case 1 made no progress for 5000 ms/);
    expect(r.out).toMatch(/^fuzz: \d+ cases run, 2 failures, [\d.]+ s, [\d,]+ cases\/s, peak RSS \d+ MiB, seed 7$/m);

    // Runaway memory hits the worker's heap limit (a generous --hang-ms: a loaded machine collects slowly near the limit).
    const oom = runner(['--target', 'selftest.oom', '--cases', '10', '--seed', '7', '--hang-ms', '120000', '--max-heap-mb', '256'], { VIGIL_FUZZ_SELFTEST: '1' });
    expect(oom.code, oom.out + oom.err).toBe(1);
    expect(oom.out).toMatch(/selftest\.oom .*FAILED\n {4}out of memory: case 1 exceeded the 256 MB heap limit/);

    // The replay command reproduces the failure exactly.
    const path = /--target selftest\.fail --seed 7 --path (\S+)/.exec(r.out)![1];
    const replay = runner(['--target', 'selftest.fail', '--seed', '7', '--path', path], { VIGIL_FUZZ_SELFTEST: '1' });
    expect(replay.code).toBe(1);
    expect(replay.out).toMatch(/selftest\.fail +1 cases .*FAILED\n {4}10 is at least 10\n {4}input: 10/);
  });

  it('passes a clean run with exit code 0, and refuses unknown targets with exit code 2', () => {
    const ok = runner(['--target', 'json.random', '--cases', '300', '--seed', '3']);
    expect(ok.code, ok.out + ok.err).toBe(0);
    expect(ok.out).toMatch(/json\.random +300 cases {2}accepted \d+, partial \d+, refused \d+/);
    expect(ok.out).toMatch(/^fuzz: 300 cases run, 0 failures/m);
    const bad = runner(['--target', 'nope']);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/unknown target\(s\) nope; targets: otlp\.roundtrip, /);
  });
});
