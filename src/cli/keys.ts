// `vigil keys …`: key operations on an archive. Each subcommand lives in its
// own module and registers itself on the `keys` group.
import type { Command } from 'commander';
import { registerShred } from './keys-shred.js';

export function registerKeys(program: Command): void {
  const keys = program.command('keys').description('archive key operations (crypto-shredding)');
  registerShred(keys);
}
