// The shared real-world corpora (read-only, outside the project). Tests that use
// them skip, saying why, when the folder is not there.
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';

export const CORPORA = resolve(process.cwd(), '../shared/corpora');
export const haveCorpora = existsSync(CORPORA);
if (!haveCorpora) console.warn(`skipping corpus tests: ${CORPORA} does not exist`);

/** The lines of a corpus file, without line ends; the empty last line dropped. */
export function corpusLines(name: string): string[] {
  const lines = readFileSync(resolve(CORPORA, name), 'utf8').split('\n').map((l) => l.replace(/\r$/, ''));
  if (lines.at(-1) === '') lines.pop();
  return lines;
}
