// CI runs every test: with VIGIL_REQUIRE_ALL=1 (set by .ci/run) a test that would
// skip because something it needs is missing fails instead, saying what is missing.
// Tests that skip through vitest (it.skipIf, ctx.skip) are caught by the reporter
// in require-all-reporter.ts; this is for tests that check inside their body.

export const requireAll = process.env.VIGIL_REQUIRE_ALL === '1';

/** Says why a check cannot run: a warning locally, a failure under VIGIL_REQUIRE_ALL=1. Returns so the test can stop. */
export function unavailable(reason: string): void {
  if (requireAll) throw new Error(`VIGIL_REQUIRE_ALL=1 and this test cannot run: ${reason}`);
  console.warn(`skipped: ${reason}`);
}
