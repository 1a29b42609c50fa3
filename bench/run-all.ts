// `npm run bench`: runs every bench/*.bench.ts (compiled to dist/bench/*.bench.js)
// one after the other in its own process, so each measures RSS and CPU alone.
// `npm run bench -- NAME…` runs only the benchmarks whose file name contains a NAME.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const filters = process.argv.slice(2);
const files = readdirSync(here)
  .filter((f) => f.endsWith('.bench.js'))
  .filter((f) => filters.length === 0 || filters.some((n) => f.includes(n)))
  .sort();

let failed = 0;
for (const f of files) {
  process.stdout.write(`\n=== ${f.replace(/\.bench\.js$/, '')} ===\n`);
  const r = spawnSync(process.execPath, ['--expose-gc', join(here, f)], { stdio: 'inherit' });
  if (r.status !== 0) {
    failed++;
    process.stdout.write(`(${f} exited with ${r.status ?? r.signal})\n`);
  }
}
process.exitCode = failed > 0 ? 1 : 0;
