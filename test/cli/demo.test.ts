// `vigil demo` in its short mode, as a user runs it: every injected anomaly is
// reported with its detector, and the sealed archive verifies.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SCENARIOS } from '../../src/simulate/scenarios.js';
import { vigilSync } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

describe('vigil demo --quick', () => {
  it('reports each injected anomaly and verifies the archive', () => {
    const dir = tempDir('vigil-demo-');
    const r = vigilSync(['demo', '--quick', '--data', join(dir, 'demo')]);
    expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
    for (const s of SCENARIOS) expect(r.stdout, s.name).toContain(`✓ ${s.title}`);
    expect(r.stdout).toContain(`${SCENARIOS.length}/${SCENARIOS.length} injected anomalies flagged with the expected detector`);
    for (const d of SCENARIOS.map((s) => s.detector)) expect(r.stdout).toMatch(new RegExp(`${d} \\[[^\\]]+\\]: `));
    expect(r.stdout).toMatch(/last seal: clean shutdown/);
    expect(r.stdout).toMatch(/ (\d[\d,]*)\/\1 records valid/);
    expect(r.stdout).toContain('Intact.');
    expect(r.stdout).toContain(`vigil verify ${join(dir, 'demo', 'archive')} --public-key ${join(dir, 'demo', 'keys', 'archive.pub')}`);
    // Piped: no progress bar escapes, plain progress lines instead.
    expect(r.stderr).not.toContain('\x1b[K');
    expect(r.stderr).toMatch(/sending \[#+\.*\] \d+%/);
  }, 120_000);
});
