// The CLI registers only the command it runs (each command's module is loaded
// on demand): what a person sees of a command must not depend on whether the
// others were registered too.
import { describe, expect, it } from 'vitest';
import type { Command } from 'commander';
import { buildProgram, COMMAND_MODULES, commandNamed } from '../../src/cli/main.js';

/** Every command's help text, sub-commands included (`keys rotate`), by its path. */
function helpTexts(program: Command): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (cmd: Command, path: string) => {
    for (const sub of cmd.commands) {
      const p = `${path} ${sub.name()}`.trim();
      out.set(p, sub.helpInformation());
      walk(sub, p);
    }
  };
  walk(program, '');
  return out;
}

describe('lazily registered commands', () => {
  it('each command alone has the same help as in the full program', async () => {
    const full = helpTexts(await buildProgram());
    const names = [...full.keys()].filter((p) => !p.includes(' '));
    // Every command is declared by the module that registers it, in the help's order.
    expect(names).toEqual(COMMAND_MODULES.flatMap((m) => m.names));
    for (const m of COMMAND_MODULES) {
      for (const name of m.names) {
        const alone = helpTexts(await buildProgram(name));
        expect([...alone.keys()].filter((p) => !p.includes(' '))).toEqual(m.names);
        for (const [path, text] of alone) expect(text, path).toBe(full.get(path));
      }
    }
  });

  it('finds the command argv names, and none for the program help, a misspelt command or options alone', () => {
    const argv = (...a: string[]) => ['node', 'vigil', ...a];
    expect(commandNamed(argv('replay', 'access.log'))).toBe('replay');
    expect(commandNamed(argv('--debug', 'verify', 'dir'))).toBe('verify');
    expect(commandNamed(argv('keys', 'rotate', '--help'))).toBe('keys');
    expect(commandNamed(argv('verify-proof', 'p.json'))).toBe('verify-proof');
    expect(commandNamed(argv('--help'))).toBeUndefined();
    expect(commandNamed(argv('help', 'replay'))).toBeUndefined();
    expect(commandNamed(argv('repaly'))).toBeUndefined();
    expect(commandNamed(argv('toString'))).toBeUndefined();
    expect(commandNamed(argv())).toBeUndefined();
  });
});
