// `vigil run` starts with its documented young-generation size unless the user
// chose one: the flag is on the running process's own command line (where V8
// reads it; v8.setFlagsFromString after start-up does not shrink the heap).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { INITIAL_OLD_SPACE_MIB, NO_PRETENURING, SEMI_SPACE_MIB, youngGenerationArgs } from '../../bin/young-generation.js';
import { startVigilProcess } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

const ARGV = ['/usr/bin/node', '/opt/vigil/bin/vigil.js'];

describe('young-generation default', () => {
  it('adds the flag for `vigil run` only, keeping node flags and arguments in order', () => {
    expect(youngGenerationArgs([...ARGV, 'run', '--config', 'v.yaml'], ['--enable-source-maps'], undefined)).toEqual([
      `--max-semi-space-size=${SEMI_SPACE_MIB}`,
      '--expose-gc',
      NO_PRETENURING,
      `--initial-old-space-size=${INITIAL_OLD_SPACE_MIB}`,
      '--enable-source-maps',
      '/opt/vigil/bin/vigil.js',
      'run',
      '--config',
      'v.yaml',
    ]);
    expect(youngGenerationArgs([...ARGV, '--debug', 'run'], [], '')?.[0]).toBe(`--max-semi-space-size=${SEMI_SPACE_MIB}`);
    for (const cmd of ['replay', 'verify', 'demo', 'check']) expect(youngGenerationArgs([...ARGV, cmd, 'run'], [], undefined), cmd).toBeNull();
    expect(youngGenerationArgs(ARGV, [], undefined)).toBeNull();
  });

  it('leaves a size the user chose alone (node flag or NODE_OPTIONS), and adds --expose-gc only when absent', () => {
    const semi = (args: string[] | null) => args?.find((a) => a.startsWith('--max-semi-space-size'));
    expect(youngGenerationArgs([...ARGV, 'run'], ['--max-semi-space-size=4'], undefined)?.slice(0, 4)).toEqual(['--expose-gc', NO_PRETENURING, `--initial-old-space-size=${INITIAL_OLD_SPACE_MIB}`, '--max-semi-space-size=4']);
    expect(semi(youngGenerationArgs([...ARGV, 'run'], [], '--trace-gc --max-semi-space-size=64'))).toBeUndefined();
    expect(semi(youngGenerationArgs([...ARGV, 'run'], [], '--max-semi-space-size 64'))).toBeUndefined();
    expect(semi(youngGenerationArgs([...ARGV, 'run'], [], '--max-old-space-size=512'))).toBe(`--max-semi-space-size=${SEMI_SPACE_MIB}`);
    expect(youngGenerationArgs([...ARGV, 'run'], ['--expose-gc'], '--max-semi-space-size=8 --initial-old-space-size=32')).toEqual([NO_PRETENURING, '--expose-gc', '/opt/vigil/bin/vigil.js', 'run']);
    expect(youngGenerationArgs([...ARGV, 'run'], ['--expose-gc', '--allocation-site-pretenuring'], '--max-semi-space-size=8 --initial-old-space-size=32')).toBeNull();
    expect(youngGenerationArgs([...ARGV, 'run'], ['--no-allocation-site-pretenuring'], '--expose_gc --max-semi-space-size=8')).toEqual([`--initial-old-space-size=${INITIAL_OLD_SPACE_MIB}`, '--no-allocation-site-pretenuring', '/opt/vigil/bin/vigil.js', 'run']);
  });

  const linux = existsSync('/proc/self/cmdline');
  it.skipIf(!linux)('is on the command line of the running `vigil run` (same pid), and the user\'s NODE_OPTIONS wins', async () => {
    const dir = tempDir('vigil-young-gen-');
    const cfg = join(dir, 'vigil.yaml');
    writeFileSync(
      cfg,
      `receivers: { otlp: { protocols: { grpc: { endpoint: 127.0.0.1:0 } } } }
exporters: { file: { path: ${dir}/out.jsonl } }
service:
  telemetry: { metrics: { address: '' } }
  pipelines: { logs: { receivers: [otlp], exporters: [file] } }
`,
    );
    const cmdline = (pid: number) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').slice(0, -1); // NUL-terminated
    for (const [env, expected] of [
      [{}, `--max-semi-space-size=${SEMI_SPACE_MIB}`],
      [{ NODE_OPTIONS: '--max-semi-space-size=8 --expose-gc' }, undefined],
    ] as const) {
      const v = await startVigilProcess(['run', '--config', cfg], { env });
      try {
        const args = cmdline(v.child.pid!);
        expect(args.find((a) => a.startsWith('--max-semi-space-size'))).toBe(expected);
        // Node takes no pretenuring flag from NODE_OPTIONS, so the restart adds it either way.
        expect(args.includes(NO_PRETENURING)).toBe(true);
        expect(args.includes(`--initial-old-space-size=${INITIAL_OLD_SPACE_MIB}`)).toBe(true);
        expect(args.slice(-3)).toEqual(['run', '--config', cfg]);
        expect(v.stderr()).not.toMatch(/ExperimentalWarning|cannot restart/);
      } finally {
        v.child.kill('SIGTERM');
        await v.exited;
      }
    }
  });
});
