// Start-up failures name the config key and the fix, and leave nothing behind.
import { describe, expect, it } from 'vitest';
import { existsSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { vigilSync } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

function occupyPort(): Promise<{ server: Server; port: number }> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.address() as { port: number }).port }));
  });
}

describe('vigil run: start-up failures', () => {
  it('an archive directory that cannot be written is named before any key is generated', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'not-a-dir'), '');
    const cfg = join(dir, 'vigil.yaml');
    writeFileSync(
      cfg,
      `receivers: { otlp: { protocols: { grpc: { endpoint: 127.0.0.1:0 } } } }
exporters:
  worm: { directory: ${dir}/not-a-dir/archive, signing: { key_file: ${dir}/keys/archive.key } }
service:
  telemetry: { metrics: { address: "" } }
  pipelines: { logs: { receivers: [otlp], exporters: [worm] } }
`,
    );
    const r = vigilSync(['run', '--config', cfg]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/exporters\.worm\.directory: cannot write to .*not-a-dir\/archive \(a part of the path is a file.*set exporters\.worm\.directory to a writable directory/);
    expect(existsSync(join(dir, 'keys', 'archive.key'))).toBe(false);
  });

  it('a port in use names the key and asks whether another Vigil is running', async () => {
    const { server, port } = await occupyPort();
    try {
      const dir = tempDir();
      const cfg = join(dir, 'vigil.yaml');
      writeFileSync(
        cfg,
        `receivers: { otlp: { protocols: { http: { endpoint: 127.0.0.1:${port} } } } }
exporters: { file: { path: ${dir}/out.jsonl } }
service:
  telemetry: { metrics: { address: "" } }
  pipelines: { logs: { receivers: [otlp], exporters: [file] } }
`,
      );
      const r = vigilSync(['run', '--config', cfg]);
      expect(r.status).toBe(1);
      expect(r.stderr).toContain(`receivers.otlp.protocols.http.endpoint: 127.0.0.1:${port} is already in use. Another Vigil running?`);

      const metrics = join(dir, 'metrics.yaml');
      writeFileSync(
        metrics,
        `exporters: { file: { path: ${dir}/out.jsonl } }
service:
  telemetry: { metrics: { address: "127.0.0.1:${port}" } }
  pipelines: { logs: { exporters: [file] } }
`,
      );
      const m = vigilSync(['run', '--config', metrics]);
      expect(m.status).toBe(1);
      expect(m.stderr).toContain(`service.telemetry.metrics.address: 127.0.0.1:${port} is already in use`);
    } finally {
      server.close();
    }
  });

  it('a missing signing key is named by its config key, and nothing is created for it', () => {
    const dir = tempDir();
    const cfg = join(dir, 'vigil.yaml');
    writeFileSync(
      cfg,
      `exporters:
  worm: { directory: ${dir}/archive, signing: { key_file: ${dir}/absent/archive.key, generate: false } }
service:
  telemetry: { metrics: { address: "" } }
  pipelines: { logs: { exporters: [worm] } }
`,
    );
    const r = vigilSync(['run', '--config', cfg]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/exporters\.worm\.signing\.key_file: signing key .*absent\/archive\.key does not exist/);
    expect(existsSync(join(dir, 'absent'))).toBe(false);
  });

  it('a missing config file says so, with exit 2', () => {
    const r = vigilSync(['run', '--config', join(tempDir(), 'nope.yaml')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/cannot read config file .*nope\.yaml: no such file \(check the --config path\)/);
  });
});
