// A bounded run of the audit processor alone on the stages benchmark's wire-decoded
// access-log requests, for `node --cpu-prof dist/bench/audit-profile.js` (profile
// the stage without the rest of the pipeline) and for a quick µs/record figure.
// BENCH_AUDIT_PSEUDO=1 turns pseudonymisation on. Prints figures; asserts nothing.
import { decodeProtobufBatch } from '../src/otlp/wire-decode.js';
import { auditConfigSchema } from '../src/processors/audit/config.js';
import { createAuditProcessor } from '../src/processors/audit/processor.js';
import { silentLogger } from '../src/telemetry/logger.js';
import { Telemetry } from '../src/telemetry/metrics.js';
import { encodedRequests } from './lib/workload.js';

const RECORDS = 512;
const BATCHES = Number(process.env.BENCH_AUDIT_BATCHES ?? 400);
const PASSES = Number(process.env.BENCH_AUDIT_PASSES ?? 5);
process.env.VIGIL_BENCH_PSEUDONYM_KEY ??= 'bench-key-0123456789abcdef0123456789';
const config = process.env.BENCH_AUDIT_PSEUDO === '1' ? { pseudonymisation: { key_env: 'VIGIL_BENCH_PSEUDONYM_KEY' } } : {};
const audit = createAuditProcessor(auditConfigSchema.parse(config), 'audit', silentLogger(), new Telemetry({ processMetrics: false }));
const requests = encodedRequests(32, RECORDS);

let best = Infinity;
for (let pass = 0; pass < PASSES; pass++) {
  let spent = 0;
  for (let b = 0; b < BATCHES; b++) {
    const batch = decodeProtobufBatch(requests[b % requests.length]).records;
    const t0 = performance.now();
    audit.process(batch);
    spent += performance.now() - t0;
  }
  if (pass > 0) best = Math.min(best, (1000 * spent) / (BATCHES * RECORDS));
}
console.log(`audit: ${best.toFixed(2)} µs/record (best of ${PASSES - 1} passes of ${BATCHES} × ${RECORDS} records${process.env.BENCH_AUDIT_PSEUDO === '1' ? ', pseudonymised' : ''})`);
