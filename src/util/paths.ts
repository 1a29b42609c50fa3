// Locating files that ship with the package (proto/, config/), whether running
// from src/ under vitest or from dist/src/ after the build.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | undefined;

export function packageRoot(): string {
  if (cached) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'proto'))) return (cached = dir);
    const parent = dirname(dir);
    if (parent === dir) throw new Error('cannot locate the vigil package root (proto/ next to package.json)');
    dir = parent;
  }
}
