// Targets that misbehave on purpose, so the runner's own failure handling
// (reporting, the hang watchdog, the heap limit) is tested for real. Only
// available with VIGIL_FUZZ_SELFTEST=1.
import fc from 'fast-check';
import { Violation } from './contracts.js';
import type { FuzzTarget } from './targets.js';

export function selfTestTargets(): FuzzTarget[] {
  if (process.env.VIGIL_FUZZ_SELFTEST !== '1') return [];
  return [
    {
      name: 'selftest.fail',
      weight: 1,
      arbitrary: fc.nat(1000),
      check: (n) => {
        if ((n as number) >= 10) throw new Violation(`${n as number} is at least 10`);
        return 'accepted';
      },
      show: (n) => String(n),
    },
    {
      name: 'selftest.hang',
      weight: 1,
      arbitrary: fc.nat(),
      check: () => {
        for (;;) {
          // a decoder stuck in a loop
        }
      },
      show: (n) => String(n),
    },
    {
      name: 'selftest.oom',
      weight: 1,
      arbitrary: fc.nat(),
      check: () => {
        const hoard: number[][] = [];
        for (;;) hoard.push(new Array(1 << 20).fill(1)); // 8 MiB a step: reaches any heap limit quickly
      },
      show: (n) => String(n),
    },
  ];
}
