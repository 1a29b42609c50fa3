// The `vigil run` config the pipeline benchmarks drive: the product's pipeline
// (audit, anomaly → worm + otlp_grpc with a file queue) unless BENCH_PROCESSORS /
// BENCH_EXPORTERS name a subset (comma-separated; '' for none), which is how the
// cost of each stage is isolated. BENCH_METRICS serves Vigil's metrics there.

function pick(env: string | undefined, all: string[]): string[] {
  return env === undefined ? all : env.split(',').map((x) => x.trim()).filter(Boolean);
}

export function benchPipelineConfig(dir: string, grpcPort: number, downstream: string): string {
  const processors = pick(process.env.BENCH_PROCESSORS, ['audit', 'anomaly']);
  const exporters = pick(process.env.BENCH_EXPORTERS, ['worm', 'otlp_grpc']);
  const processorCfg: Record<string, string> = { audit: 'audit: {}', anomaly: `anomaly: { state: { directory: ${dir}/anomaly } }` };
  const exporterCfg: Record<string, string> = {
    worm: `worm: { directory: ${dir}/archive, signing: { key_file: ${dir}/keys/archive.key } }`,
    file: `file: { path: ${dir}/archive.jsonl }`,
    otlp_grpc: `otlp_grpc: { endpoint: ${downstream}, tls: { insecure: true }, compression: none, sending_queue: { storage: file_storage, queue_size: 5000 } }`,
    debug: `debug: { verbosity: basic }`,
  };
  return `
receivers:
  otlp:
    protocols:
      grpc: { endpoint: 127.0.0.1:${grpcPort}, max_recv_msg_size_mib: 64 }
${processors.length ? `processors:\n${processors.map((p) => `  ${processorCfg[p]}`).join('\n')}` : ''}
exporters:
${exporters.map((e) => `  ${exporterCfg[e]}`).join('\n')}
extensions:
  file_storage: { directory: ${dir}/queue }
service:
  extensions: [file_storage]
  telemetry: { metrics: { address: '${process.env.BENCH_METRICS ?? ''}' }, logs: { level: warn } }
  pipelines:
    logs: { receivers: [otlp], processors: [${processors.join(', ')}], exporters: [${exporters.join(', ')}] }
`;
}
