import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { defaultRegistry } from '../../../src/components.js';
import { ConfigError } from '../../../src/config/errors.js';
import { validateConfig } from '../../../src/config/load.js';
import { Refusal } from '../../../src/pipeline/errors.js';
import { Service } from '../../../src/pipeline/service.js';
import { silentLogger } from '../../../src/telemetry/logger.js';
import { exposedGc } from '../../helpers/gc.js';
import { Telemetry } from '../../../src/telemetry/metrics.js';
import { memoryLimiterConfigSchema, resolveLimits } from '../../../src/processors/memory_limiter/config.js';
import { admission, nextState, pressureOf, requestEstimate, retryAfterMs, shouldCollect } from '../../../src/processors/memory_limiter/decide.js';
import { availableMemory, parseCgroupLimit, sampleMemory, totalMemoryBytes, type MemorySample } from '../../../src/processors/memory_limiter/memory.js';
import { createMemoryLimiter } from '../../../src/processors/memory_limiter/memory_limiter.js';
import { makeBatch } from '../../helpers/records.js';
import { tempDir } from '../../helpers/tmp.js';
import { unavailable } from '../../helpers/require-all.js';

const MIB = 1024 * 1024;
const registry = defaultRegistry();

function issuesOf(settings: unknown): { path: string; message: string }[] {
  try {
    validateConfig(
      {
        processors: { memory_limiter: settings },
        exporters: { debug: {} },
        service: { pipelines: { logs: { processors: ['memory_limiter'], exporters: ['debug'] } } },
      },
      registry,
      'test',
      { env: {} },
    );
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    // The pipeline's reference to the invalid processor is reported too; these tests look at the processor's own issues.
    return (err as ConfigError).issues.filter((i) => i.path.startsWith('processors.'));
  }
  return [];
}

/** A logger whose lines the test reads. */
function capturingLogger(): { logger: pino.Logger; lines: { level: number; msg: string }[] } {
  const lines: { level: number; msg: string }[] = [];
  const logger = pino({ level: 'debug' }, { write: (s: string) => void lines.push(JSON.parse(s)) });
  return { logger, lines };
}


async function pollUntil(cond: () => boolean, what: string, deadlineMs = 15_000): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setImmediate(r));
  }
}

describe('memory_limiter config', () => {
  it('fills the Collector defaults: check_interval 1s, spike 20% of the limit', () => {
    const c = memoryLimiterConfigSchema.parse({ limit_mib: 500 });
    expect(c.check_interval).toBe(1000);
    expect(resolveLimits(c, 0)).toEqual({ hardBytes: 500 * MIB, softBytes: 400 * MIB });
    const s = memoryLimiterConfigSchema.parse({ limit_mib: 500, spike_limit_mib: 100, check_interval: '250ms' });
    expect(s.check_interval).toBe(250);
    expect(resolveLimits(s, 0)).toEqual({ hardBytes: 500 * MIB, softBytes: 400 * MIB });
  });

  it('resolves percentages against the memory available', () => {
    const total = 8 * 1024 * MIB;
    expect(resolveLimits(memoryLimiterConfigSchema.parse({ limit_percentage: 50 }), total)).toEqual({
      hardBytes: 4096 * MIB,
      softBytes: Math.floor(4096 * MIB * 0.8),
    });
    expect(resolveLimits(memoryLimiterConfigSchema.parse({ limit_percentage: 80, spike_limit_percentage: 30 }), total)).toEqual({
      hardBytes: Math.floor(total * 0.8),
      softBytes: Math.floor(total * 0.8 - total * 0.3),
    });
  });

  it('names the key of every mistake', () => {
    expect(issuesOf({})).toEqual([{ path: 'processors.memory_limiter.limit_mib', message: expect.stringContaining('set limit_mib') }]);
    expect(issuesOf({ limit_mib: 100, spike_limit_mib: 100 })).toEqual([
      { path: 'processors.memory_limiter.spike_limit_mib', message: expect.stringContaining('must be smaller than limit_mib (100)') },
    ]);
    expect(issuesOf({ limit_percentage: 50, spike_limit_percentage: 60 })[0].path).toBe('processors.memory_limiter.spike_limit_percentage');
    expect(issuesOf({ limit_mib: 100, limit_percentage: 50 })[0]).toEqual({
      path: 'processors.memory_limiter.limit_percentage',
      message: expect.stringContaining('not both'),
    });
    expect(issuesOf({ limit_mib: 100, spike_limit_percentage: 10 })[0].path).toBe('processors.memory_limiter.spike_limit_percentage');
    expect(issuesOf({ limit_percentage: 150 })[0]).toEqual({ path: 'processors.memory_limiter.limit_percentage', message: expect.stringContaining('at most 100') });
    expect(issuesOf({ limit_mib: -1 })[0].path).toBe('processors.memory_limiter.limit_mib');
    expect(issuesOf({ limit_mib: 100, check_interval: 0 })[0]).toEqual({
      path: 'processors.memory_limiter.check_interval',
      message: expect.stringContaining('above 0'),
    });
    expect(issuesOf({ limit_mib: 100, check_interval: 'soon' })[0].path).toBe('processors.memory_limiter.check_interval');
    expect(issuesOf({ limit_mb: 100 })[0].message).toMatch(/unknown key.*"limit_mb"/);
  });
});

describe('memory_limiter decisions (pure)', () => {
  const limits = { softBytes: 800, hardBytes: 1000 };

  it('refuses above the soft limit and forces GC above the hard limit', () => {
    expect(pressureOf(0, limits)).toBe('normal');
    expect(pressureOf(800, limits)).toBe('normal');
    expect(pressureOf(801, limits)).toBe('soft');
    expect(pressureOf(1000, limits)).toBe('soft');
    expect(pressureOf(1001, limits)).toBe('hard');
  });

  it('reports a transition only when the state changes', () => {
    expect(nextState(false, 'normal')).toEqual({ refusing: false });
    expect(nextState(false, 'soft')).toEqual({ refusing: true, transition: 'started_refusing' });
    expect(nextState(true, 'hard')).toEqual({ refusing: true });
    expect(nextState(true, 'normal')).toEqual({ refusing: false, transition: 'recovered' });
  });

  it('collects above the hard limit, and above the soft limit once already refusing', () => {
    expect(shouldCollect(false, 'normal')).toBe(false);
    expect(shouldCollect(true, 'normal')).toBe(false);
    expect(shouldCollect(false, 'soft')).toBe(false); // the first crossing refuses without one
    expect(shouldCollect(true, 'soft')).toBe(true);
    expect(shouldCollect(false, 'hard')).toBe(true);
    expect(shouldCollect(true, 'hard')).toBe(true);
  });

  it('admits a request from its estimate: never above the soft limit alone, later when it would pass the hard limit now', () => {
    expect(requestEstimate({ bytes: 100, records: 10 }, 4)).toBe(100 * 3 + 10 * 4);
    expect(admission(801, 0, limits)).toBe('never');
    expect(admission(800, 0, limits)).toBe('now');
    expect(admission(500, 500, limits)).toBe('now');
    expect(admission(500, 501, limits)).toBe('later');
  });

  it('hints a retry no sooner than the next check, and at least a second', () => {
    expect(retryAfterMs(100)).toBe(1000);
    expect(retryAfterMs(1000)).toBe(1000);
    expect(retryAfterMs(2500)).toBe(3000);
  });

  it('reads cgroup v1 and v2 limits, ignoring "no limit"', () => {
    expect(parseCgroupLimit('max\n')).toBeUndefined();
    expect(parseCgroupLimit('9223372036854771712\n')).toBeUndefined();
    expect(parseCgroupLimit('536870912\n')).toBe(536870912);
    expect(parseCgroupLimit(undefined)).toBeUndefined();
    expect(parseCgroupLimit('garbage')).toBeUndefined();
    expect(availableMemory(16 * 1024 * MIB, [undefined, 512 * MIB, 1024 * MIB])).toBe(512 * MIB);
    expect(availableMemory(1024 * MIB, [undefined, 4096 * MIB, 0, NaN])).toBe(1024 * MIB);
    const total = totalMemoryBytes();
    expect(total).toBeGreaterThan(0);
    expect(total).toBeLessThanOrEqual(availableMemory(total, []));
  });
});

describe('memory_limiter on real memory', () => {
  function limiter(limitMib: number, spikeMib: number, opts: { sample?: () => MemorySample; gc?: () => (() => void) | undefined } = {}) {
    const { logger, lines } = capturingLogger();
    const metrics = new Registry();
    const cfg = memoryLimiterConfigSchema.parse({ limit_mib: limitMib, spike_limit_mib: spikeMib, check_interval: '1h' });
    const l = createMemoryLimiter('memory_limiter', cfg, { logger, registry: metrics, ...opts });
    return { l, lines, metrics };
  }

  it('refuses with a retryable UNAVAILABLE when the soft limit is below actual live memory, and accepts under a generous one', async () => {
    const rssMib = Math.ceil(sampleMemory().rss / MIB);
    const tiny = limiter(2, 1);
    await tiny.l.start();
    expect(tiny.l.isRefusing).toBe(true);
    let refusal: unknown;
    try {
      tiny.l.process(makeBatch(7));
    } catch (err) {
      refusal = err;
    }
    expect(refusal).toBeInstanceOf(Refusal);
    expect((refusal as Refusal).code).toBe('UNAVAILABLE');
    expect((refusal as Refusal).retryable).toBe(true);
    expect((refusal as Refusal).retryAfterMs).toBe(3_600_000);
    expect((refusal as Refusal).message).toMatch(/above the soft limit of 1 MiB/);
    const text = await tiny.metrics.metrics();
    expect(text).toMatch(/vigil_processor_refused_log_records_total\{processor="memory_limiter"\} 7/);
    expect(text).toMatch(/vigil_memory_limiter_refusing\{processor="memory_limiter"\} 1/);
    expect(text).toMatch(/vigil_memory_limiter_usage_bytes\{processor="memory_limiter",measure="live"\} \d+/);
    expect(text).toMatch(/vigil_memory_limiter_usage_bytes\{processor="memory_limiter",measure="rss"\} \d+/);
    expect(text).toMatch(/vigil_memory_limiter_limit_bytes\{processor="memory_limiter",limit="soft"\} 1048576/);
    await tiny.l.shutdown();

    const roomy = limiter(rssMib * 4 + 1024, rssMib);
    await roomy.l.start();
    expect(roomy.l.isRefusing).toBe(false);
    const batch = makeBatch(3);
    expect(roomy.l.process(batch)).toBe(batch);
    await roomy.l.shutdown();
  });

  it('refuses a single huge request before it is decoded: non-retryable when it can never fit, retryable when memory is busy now', async () => {
    let live = 10 * MIB;
    const { l, lines, metrics } = limiter(512, 128, { sample: () => ({ live, rss: live, heapUsed: live }) });
    await l.start();
    // 2,000,000 empty records in a 4 MB request: about 7.6 GiB estimated, far above the 384 MiB soft limit.
    const huge = (() => {
      try {
        l.admit({ bytes: 4_000_000, records: 2_000_000 });
      } catch (err) {
        return err;
      }
    })();
    expect(huge).toBeInstanceOf(Refusal);
    expect((huge as Refusal).code).toBe('RESOURCE_EXHAUSTED');
    expect((huge as Refusal).retryable).toBe(false);
    expect((huge as Refusal).message).toMatch(/2000000 log records .* more than the soft limit of 384 MiB: send fewer records per request/);
    expect(lines.some((x) => /larger than the memory limit allows/.test(x.msg))).toBe(true);
    // An ordinary request passes; the same one is refused retryably while memory is nearly full.
    l.admit({ bytes: 2_800_000, records: 9_533 });
    live = 480 * MIB;
    l.check();
    const busy = (() => {
      try {
        l.admit({ bytes: 2_800_000, records: 9_533 });
      } catch (err) {
        return err;
      }
    })();
    expect((busy as Refusal).code).toBe('UNAVAILABLE');
    expect((busy as Refusal).retryable).toBe(true);
    expect(await metrics.metrics()).toMatch(/vigil_processor_refused_log_records_total\{processor="memory_limiter"\} 2009533/);
    await l.shutdown();
  });

  it('refuses while allocations push live memory over the limit, forces a GC above the hard limit, and recovers once memory is freed', async () => {
    const gc = exposedGc();
    if (!gc) return unavailable('cannot expose V8 gc in this process');
    gc();
    // Chunks above glibc's largest mmap threshold (32 MiB) are returned to the kernel when freed.
    let chunks: Buffer[] | undefined = Array.from({ length: 4 }, () => Buffer.alloc(40 * MIB, 1));
    const grown = sampleMemory().live;
    // Soft limit 80 MiB below what we hold now and hard limit just under it: refusing, at hard pressure.
    const hardMib = Math.floor(grown / MIB) - 20;
    let gcs = 0;
    const { l, lines, metrics } = limiter(hardMib, 60, {
      gc: () => () => {
        gcs++;
        gc();
      },
    });
    await l.start();
    expect(l.isRefusing).toBe(true);
    expect(gcs).toBe(1); // above the hard limit it collected, but the chunks are still referenced
    expect(() => l.process(makeBatch(2))).toThrow(Refusal);

    chunks = undefined;
    expect(chunks).toBeUndefined();
    // The limiter's own forced collection frees the chunks; poll its checks until RSS shows it.
    await pollUntil(() => !l.check().refusing, 'the limiter to recover after freeing 160 MiB');
    expect(l.lastSample.live).toBeLessThanOrEqual(l.limits.softBytes);
    expect(l.process(makeBatch(1))).toHaveLength(1);
    await l.shutdown();

    const transitions = lines.filter((x) => /soft limit/.test(x.msg));
    expect(transitions.map((x) => [x.level, x.msg])).toEqual([
      [40, expect.stringContaining('above the soft limit: refusing')],
      [30, expect.stringContaining('back below the soft limit')],
    ]);
    expect(await metrics.metrics()).toMatch(/vigil_memory_limiter_forced_gc_total\{processor="memory_limiter"\} [1-9]/);
  });

  it('logs each transition once, never per batch or per check', async () => {
    const m = sampleMemory();
    // Real measured values replayed: over, over, over, under, under, over.
    const over = { live: 10 * MIB + 1, rss: m.rss, heapUsed: m.heapUsed };
    const under = { live: 1 * MIB, rss: m.rss, heapUsed: m.heapUsed };
    const seq = [over, over, over, under, under, over];
    let i = 0;
    const { l, lines } = limiter(10, 2, { sample: () => seq[Math.min(i++, seq.length - 1)], gc: () => undefined });
    await l.start();
    for (let n = 0; n < 3; n++) expect(() => l.process(makeBatch(1))).toThrow(Refusal);
    l.check();
    l.check();
    expect(l.isRefusing).toBe(true);
    l.check();
    expect(l.isRefusing).toBe(false);
    l.check();
    l.check();
    expect(l.isRefusing).toBe(true);
    await l.shutdown();
    const msgs = lines.map((x) => x.msg);
    expect(msgs.filter((m) => m.includes('above the soft limit: refusing'))).toHaveLength(2);
    expect(msgs.filter((m) => m.includes('back below the soft limit'))).toHaveLength(1);
    const recovered = lines.find((x) => x.msg.includes('back below')) as unknown as { refused_log_records: number };
    expect(recovered.refused_log_records).toBe(3);
    // Above the hard limit without an exposed gc: one hint, not one per check.
    expect(msgs.filter((m) => m.includes('--expose-gc'))).toHaveLength(1);
  });

  it('does not stay refusing on garbage between the soft and hard limits: while refusing, each check collects first', async () => {
    // Live memory over the soft limit (8 MiB) and under the hard one (10 MiB) until a collection frees it:
    // while refusing almost nothing is allocated, so V8 might never collect it by itself (a flood once
    // sat at 210 MiB live against a 200 MiB soft limit for minutes, refusing every retry).
    const m = sampleMemory();
    let garbage = true;
    let gcs = 0;
    const { l } = limiter(10, 2, {
      sample: () => ({ live: garbage ? 9 * MIB : 1 * MIB, rss: m.rss, heapUsed: m.heapUsed }),
      gc: () => () => {
        gcs++;
        garbage = false;
      },
    });
    await l.start();
    expect(l.isRefusing).toBe(true); // the first crossing refuses, without a collection
    expect(gcs).toBe(0);
    expect(() => l.process(makeBatch(1))).toThrow(Refusal);
    expect(l.check()).toEqual({ refusing: false, transition: 'recovered' });
    expect(gcs).toBe(1);
    l.process(makeBatch(1));
    await l.shutdown();
  });

  it('keeps its state when a measurement fails, instead of throwing from the timer', async () => {
    let fail = false;
    const { l, lines } = limiter(10, 2, {
      sample: () => {
        if (fail) throw new Error('EMFILE');
        return { live: 20 * MIB, rss: 20 * MIB, heapUsed: 0 };
      },
      gc: () => undefined,
    });
    await l.start();
    expect(l.isRefusing).toBe(true);
    fail = true;
    expect(l.check()).toEqual({ refusing: true });
    expect(lines.some((x) => x.msg.includes('could not measure memory'))).toBe(true);
    await l.shutdown();
  });
});

describe('memory_limiter in a pipeline', () => {
  async function run(limitMib: number, spikeMib: number) {
    const dir = tempDir();
    const out = join(dir, `out-${limitMib}.jsonl`);
    const cfg = validateConfig(
      {
        processors: { memory_limiter: { limit_mib: limitMib, spike_limit_mib: spikeMib, check_interval: '1h' } },
        exporters: { file: { path: out } },
        service: { pipelines: { logs: { processors: ['memory_limiter'], exporters: ['file'] } } },
      },
      registry,
      'test',
      { env: {} },
    );
    const telemetry = new Telemetry({ processMetrics: false });
    const svc = await Service.build(cfg, silentLogger(), telemetry);
    await svc.start();
    return { svc, out, telemetry };
  }

  it('refuses the whole batch before any exporter sees it', async () => {
    const { svc, out, telemetry } = await run(2, 1);
    const err = await svc.pipelines[0].consume(makeBatch(5)).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(Refusal);
    expect((err as Refusal).retryable).toBe(true);
    expect(existsSync(out) ? readFileSync(out, 'utf8') : '').toBe('');
    expect(await telemetry.registry.metrics()).toMatch(/vigil_processor_refused_log_records_total\{processor="memory_limiter"\} 5/);
    await svc.shutdown();
  });

  it('passes batches through under a generous limit', async () => {
    const rssMib = Math.ceil(sampleMemory().rss / MIB);
    const { svc, out } = await run(rssMib * 4 + 1024, 1);
    await svc.pipelines[0].consume(makeBatch(5));
    expect(readFileSync(out, 'utf8').trim().split('\n')).toHaveLength(1);
    await svc.shutdown();
  });
});
