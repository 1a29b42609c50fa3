// `vigil keys …`: key operations on an archive. Each subcommand lives in its
// own module and registers itself on the `keys` group.
import type { Command } from 'commander';
import { registerRotate } from './keys-rotate.js';
import { registerShred } from './keys-shred.js';

export function registerKeys(program: Command): void {
  const keys = program.command('keys').description('archive key operations (signing key rotation, crypto-shredding)');
  registerRotate(keys);
  registerShred(keys);
}
