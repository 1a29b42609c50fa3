// Configuration of the `memory_limiter` processor, after the Collector's:
// a hard limit (limit_mib, or limit_percentage of the memory available) and a
// spike allowance below it; the soft limit (hard − spike) is where refusing
// starts. Limits are resolved to bytes once, at creation.
import { z } from 'zod';
import { duration, size } from '../../config/units.js';

const MIB = 1024 * 1024;
/** The Collector's default spike allowance: a fifth of the limit. */
const DEFAULT_SPIKE_FRACTION = 0.2;
/** Measured: 2,000,000 empty records through audit, anomaly and the archive peaked at about 5 KiB each; most records are not empty. */
export const DEFAULT_BYTES_PER_RECORD = 4 * 1024;

export const memoryLimiterConfigSchema = z
  .object({
    check_interval: duration()
      .default(1000)
      .refine((ms) => ms > 0, 'check_interval must be above 0, e.g. 1s'),
    limit_mib: z.number().int('limit_mib is a whole number of MiB').positive('limit_mib must be above 0').optional(),
    spike_limit_mib: z.number().int('spike_limit_mib is a whole number of MiB').nonnegative('spike_limit_mib cannot be negative').optional(),
    limit_percentage: z
      .number()
      .gt(0, 'limit_percentage must be above 0')
      .max(100, 'limit_percentage is a percentage of the memory available: at most 100')
      .optional(),
    spike_limit_percentage: z
      .number()
      .nonnegative('spike_limit_percentage cannot be negative')
      .max(100, 'spike_limit_percentage is at most 100')
      .optional(),
    /**
     * Memory one log record is expected to take while it is processed (decoded,
     * enriched, encoded for each exporter): with the request's size, the
     * estimate a request is admitted on before it is decoded. 0 = no per-request check.
     */
    bytes_per_record: size().default(DEFAULT_BYTES_PER_RECORD),
  })
  .strict()
  .superRefine((c, ctx) => {
    const issue = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });
    if (c.limit_mib === undefined && c.limit_percentage === undefined) {
      issue('limit_mib', 'set limit_mib (MiB) or limit_percentage (of the memory available to the process)');
      return;
    }
    if (c.limit_mib !== undefined && c.limit_percentage !== undefined) {
      issue('limit_percentage', 'set either limit_mib or limit_percentage, not both');
      return;
    }
    if (c.limit_mib !== undefined) {
      if (c.spike_limit_percentage !== undefined) issue('spike_limit_percentage', 'with limit_mib, give the spike as spike_limit_mib');
      if (c.spike_limit_mib !== undefined && c.spike_limit_mib >= c.limit_mib) {
        issue('spike_limit_mib', `spike_limit_mib (${c.spike_limit_mib}) must be smaller than limit_mib (${c.limit_mib}): the soft limit is limit_mib − spike_limit_mib`);
      }
    } else {
      if (c.spike_limit_mib !== undefined) issue('spike_limit_mib', 'with limit_percentage, give the spike as spike_limit_percentage');
      if (c.spike_limit_percentage !== undefined && c.spike_limit_percentage >= c.limit_percentage!) {
        issue(
          'spike_limit_percentage',
          `spike_limit_percentage (${c.spike_limit_percentage}) must be smaller than limit_percentage (${c.limit_percentage}): the soft limit is their difference`,
        );
      }
    }
  });
export type MemoryLimiterConfig = z.infer<typeof memoryLimiterConfigSchema>;

/** The limits in bytes: refuse above `softBytes`, also force a GC above `hardBytes`. */
export interface Limits {
  softBytes: number;
  hardBytes: number;
}

/** Resolves a validated config to byte limits; `totalBytes` is the memory available (used by the percentage form). */
export function resolveLimits(c: MemoryLimiterConfig, totalBytes: number): Limits {
  let hard: number;
  let spike: number;
  if (c.limit_mib !== undefined) {
    hard = c.limit_mib * MIB;
    spike = c.spike_limit_mib !== undefined ? c.spike_limit_mib * MIB : hard * DEFAULT_SPIKE_FRACTION;
  } else {
    hard = (totalBytes * c.limit_percentage!) / 100;
    spike = c.spike_limit_percentage !== undefined ? (totalBytes * c.spike_limit_percentage) / 100 : hard * DEFAULT_SPIKE_FRACTION;
  }
  return { hardBytes: Math.floor(hard), softBytes: Math.floor(hard - spike) };
}
