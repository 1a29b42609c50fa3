// The `vigil run` config the pipeline benchmarks drive: the product's pipeline
// (audit, anomaly → worm + otlp_grpc with a file queue) unless BENCH_PROCESSORS /
// BENCH_EXPORTERS name a subset (comma-separated; '' for none), which is how the
// cost of each stage is isolated. BENCH_RAW_EXPORTERS (e.g. otlp_grpc) adds a
// second pipeline from the same receiver, without processors, to its own
// exporters of those types (`<type>/raw`): a fan-out in which the first pipeline
// mutates a copy and the raw one forwards the records as they came.
// BENCH_METRICS serves Vigil's metrics there.

function pick(env: string | undefined, all: string[]): string[] {
  return env === undefined ? all : env.split(',').map((x) => x.trim()).filter(Boolean);
}

export function benchPipelineConfig(dir: string, grpcPort: number, downstream: string): string {
  const processors = pick(process.env.BENCH_PROCESSORS, ['audit', 'anomaly']);
  const exporters = pick(process.env.BENCH_EXPORTERS, ['worm', 'otlp_grpc']);
  const raw = pick(process.env.BENCH_RAW_EXPORTERS ?? '', []).map((e) => `${e}/raw`);
  const processorCfg: Record<string, string> = { audit: 'audit: {}', anomaly: `anomaly: { state: { directory: ${dir}/anomaly } }` };
  /** An exporter's config line under its id (`type` or `type/name`), each with a directory of its own. */
  const exporterCfg = (id: string): string => {
    const [type, name] = id.split('/');
    const d = name ? `${dir}/${name}` : dir;
    const cfg: Record<string, string> = {
      worm: `{ directory: ${d}/archive, signing: { key_file: ${dir}/keys/archive.key } }`,
      file: `{ path: ${d}/archive.jsonl }`,
      otlp_grpc: `{ endpoint: ${downstream}, tls: { insecure: true }, compression: none, sending_queue: { storage: file_storage, queue_size: 5000 } }`,
      debug: `{ verbosity: basic }`,
    };
    return `${id}: ${cfg[type]}`;
  };
  return `
receivers:
  otlp:
    protocols:
      grpc: { endpoint: 127.0.0.1:${grpcPort}, max_recv_msg_size_mib: 64 }
${processors.length ? `processors:\n${processors.map((p) => `  ${processorCfg[p]}`).join('\n')}` : ''}
exporters:
${[...exporters, ...raw].map((e) => `  ${exporterCfg(e)}`).join('\n')}
extensions:
  file_storage: { directory: ${dir}/queue }
service:
  extensions: [file_storage]
  telemetry: { metrics: { address: '${process.env.BENCH_METRICS ?? ''}' }, logs: { level: warn } }
  pipelines:
    logs: { receivers: [otlp], processors: [${processors.join(', ')}], exporters: [${exporters.join(', ')}] }${raw.length ? `\n    logs/raw: { receivers: [otlp], processors: [], exporters: [${raw.join(', ')}] }` : ''}
`;
}
