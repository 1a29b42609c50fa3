// A vitest reporter for CI (VIGIL_REQUIRE_ALL=1, see vitest.config.ts): a run in
// which any test was skipped fails, and the skipped tests are listed with the
// reason they gave, so a missing radosgw, browser or corpus cannot pass as green.
import type { Reporter, TestCase, TestModule } from 'vitest/node';

export function skippedTests(modules: ReadonlyArray<TestModule>): string[] {
  const out: string[] = [];
  for (const m of modules) {
    for (const t of m.children.allTests() as Iterable<TestCase>) {
      const r = t.result();
      if (r.state === 'skipped') out.push(`${m.moduleId.replace(`${process.cwd()}/`, '')} > ${t.fullName}${r.note ? ` (${r.note})` : ''}`);
    }
  }
  return out;
}

export default class RequireAllReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    const skipped = skippedTests(modules);
    if (skipped.length === 0) return;
    process.stderr.write(
      `\nVIGIL_REQUIRE_ALL=1: ${skipped.length} test(s) skipped, which CI does not allow (provision what they need in .ci/run):\n` +
        skipped.map((s) => `  - ${s}\n`).join(''),
    );
    process.exitCode = 1;
  }
}
