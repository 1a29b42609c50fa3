// examples/kubernetes: both manifests parse; the Vigil config in each ConfigMap
// passes Vigil's own validateConfig with the environment the container gets;
// probes, ports, mounts, Secrets and ConfigMaps agree with that config and with
// each other. (No cluster here: this is everything short of applying them.)
import { posix } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import { defaultRegistry } from '../../src/components.js';
import { validateConfig, type VigilConfig } from '../../src/config/load.js';
import { splitHostPort } from '../../src/config/units.js';
import { checkCollectorWiring, exampleText, portOf, type Yaml } from './helpers.js';

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [k: string]: Yaml | string | undefined;
}

function parseManifest(file: string): K8sObject[] {
  const docs = parseAllDocuments(exampleText('kubernetes', file));
  return docs.map((d, i) => {
    expect(d.errors, `${file} document ${i}`).toEqual([]);
    const obj = d.toJS({ maxAliasCount: 50 }) as K8sObject;
    expect(obj.apiVersion, `${file} document ${i}`).toBeTruthy();
    expect(obj.kind, `${file} document ${i}`).toBeTruthy();
    expect(obj.metadata?.name, `${file} document ${i}`).toMatch(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/);
    return obj;
  });
}

const nsOf = (o: K8sObject) => o.metadata.namespace ?? 'default';

class Manifest {
  constructor(readonly objects: K8sObject[]) {}

  find(kind: string, namespace: string, name: string): K8sObject | undefined {
    return this.objects.find((o) => o.kind === kind && nsOf(o) === namespace && o.metadata.name === name);
  }

  /** The keys of a Secret or ConfigMap (data and stringData). */
  keys(kind: 'Secret' | 'ConfigMap', namespace: string, name: string): string[] {
    const o = this.find(kind, namespace, name);
    expect(o, `${kind} ${namespace}/${name} is in the manifest`).toBeDefined();
    return [...Object.keys((o!.data as Yaml) ?? {}), ...Object.keys((o!.stringData as Yaml) ?? {})];
  }

  workloads(): K8sObject[] {
    return this.objects.filter((o) => ['StatefulSet', 'Deployment', 'DaemonSet', 'Pod'].includes(o.kind));
  }
}

function podSpec(w: K8sObject): Yaml {
  return w.kind === 'Pod' ? (w.spec as Yaml) : (w.spec as Yaml).template.spec;
}

function containersOf(pod: Yaml): Yaml[] {
  return [...(pod.initContainers ?? []), ...pod.containers];
}

/** A probe's or a Service's port (a number or a container port name) as a number. */
function resolvePort(container: Yaml, port: number | string): number {
  if (typeof port === 'number') return port;
  const p = (container.ports ?? []).find((x: Yaml) => x.name === port);
  expect(p, `container ${container.name} has a port named ${port}`).toBeDefined();
  return p.containerPort;
}

/** The volume mounted at the longest mount path that contains `path`, in a container. */
function mountFor(container: Yaml, path: string): { mount: Yaml; sub: string } {
  const mounts = (container.volumeMounts ?? []) as Yaml[];
  const m = mounts
    .filter((v) => path === v.mountPath || path.startsWith(`${v.mountPath.replace(/\/$/, '')}/`))
    .sort((a, b) => b.mountPath.length - a.mountPath.length)[0];
  expect(m, `${path} is on a volume mounted in ${container.name}`).toBeDefined();
  return { mount: m, sub: posix.relative(m.mountPath, path) };
}

/** Everything every workload of a manifest must get right, whatever runs in it. */
function checkWorkloadReferences(m: Manifest, w: K8sObject): void {
  const ns = nsOf(w);
  const pod = podSpec(w);
  const volumes = new Map<string, Yaml>((pod.volumes ?? []).map((v: Yaml) => [v.name, v]));
  for (const t of (w.spec as Yaml).volumeClaimTemplates ?? []) volumes.set(t.metadata.name, { name: t.metadata.name, persistentVolumeClaim: {} });
  for (const v of volumes.values()) {
    if (v.configMap) for (const k of (v.configMap.items ?? []).map((i: Yaml) => i.key)) expect(m.keys('ConfigMap', ns, v.configMap.name)).toContain(k);
    if (v.configMap) m.keys('ConfigMap', ns, v.configMap.name);
    if (v.secret) for (const k of (v.secret.items ?? []).map((i: Yaml) => i.key)) expect(m.keys('Secret', ns, v.secret.secretName)).toContain(k);
    if (v.secret) m.keys('Secret', ns, v.secret.secretName);
  }
  expect(pod.securityContext?.runAsNonRoot, `${w.metadata.name}: runAsNonRoot`).toBe(true);
  for (const c of containersOf(pod)) {
    for (const vm of c.volumeMounts ?? []) expect(volumes.has(vm.name), `${c.name} mounts ${vm.name}, which is defined`).toBe(true);
    for (const e of c.env ?? []) {
      const s = e.valueFrom?.secretKeyRef;
      if (s) expect(m.keys('Secret', ns, s.name), `${c.name} env ${e.name}`).toContain(s.key);
      const cm = e.valueFrom?.configMapKeyRef;
      if (cm) expect(m.keys('ConfigMap', ns, cm.name), `${c.name} env ${e.name}`).toContain(cm.key);
    }
    for (const e of c.envFrom ?? []) {
      if (e.secretRef) m.keys('Secret', ns, e.secretRef.name);
      if (e.configMapRef) m.keys('ConfigMap', ns, e.configMapRef.name);
    }
    for (const probe of ['startupProbe', 'readinessProbe', 'livenessProbe']) if (c[probe]?.httpGet) resolvePort(c, c[probe].httpGet.port);
    const sc = c.securityContext ?? {};
    expect(sc.allowPrivilegeEscalation, `${c.name}: allowPrivilegeEscalation`).toBe(false);
    expect(sc.readOnlyRootFilesystem, `${c.name}: readOnlyRootFilesystem`).toBe(true);
    expect(sc.capabilities?.drop, `${c.name}: capabilities dropped`).toContain('ALL');
    expect(c.resources?.requests?.memory, `${c.name}: memory request`).toBeTruthy();
    expect(c.resources?.limits?.memory, `${c.name}: memory limit`).toBeTruthy();
  }
}

/** The file a container's `--config X` / `--config=X` argument names, read from the ConfigMap mounted there. */
function mountedConfigText(m: Manifest, w: K8sObject, c: Yaml): string {
  const args: string[] = [...(c.command ?? []), ...(c.args ?? [])];
  const i = args.findIndex((a) => a === '--config' || a.startsWith('--config='));
  expect(i, `${c.name} is given --config`).toBeGreaterThanOrEqual(0);
  const path = args[i].includes('=') ? args[i].slice('--config='.length) : args[i + 1];
  const { mount, sub } = mountFor(c, path);
  const volume = (podSpec(w).volumes as Yaml[]).find((v) => v.name === mount.name)!;
  expect(volume.configMap, `${path} comes from a ConfigMap`).toBeDefined();
  expect(m.keys('ConfigMap', nsOf(w), volume.configMap.name)).toContain(sub);
  return (m.find('ConfigMap', nsOf(w), volume.configMap.name)!.data as Yaml)[sub];
}

/** The environment a container gets (Secret values replaced by placeholders). */
function containerEnv(c: Yaml): Record<string, string> {
  const env: Record<string, string> = {};
  for (const e of c.env ?? []) {
    const s = e.valueFrom?.secretKeyRef;
    env[e.name] = e.value ?? (s ? `secret:${s.name}/${s.key}` : 'from-field');
  }
  return env;
}

/** What is checked for the vigil sidecar in either manifest; returns its validated config. */
function checkVigilSidecar(m: Manifest, w: K8sObject): VigilConfig {
  const pod = podSpec(w);
  const vigil = (pod.initContainers ?? []).find((c: Yaml) => c.name === 'vigil');
  expect(vigil, 'vigil is a native sidecar (an init container)').toBeDefined();
  expect(vigil.restartPolicy).toBe('Always');
  expect(pod.containers.length, 'an application container runs beside it').toBeGreaterThan(0);

  const raw = parseYaml(mountedConfigText(m, w, vigil));
  const env = containerEnv(vigil);
  const cfg = validateConfig(raw, defaultRegistry(), 'ConfigMap vigil.yaml', { env });

  // Probes hit the health_check endpoint, which the kubelet can reach (not loopback).
  const health = cfg.extensions.get('health_check')!.config as { endpoint: string; path: string };
  expect(cfg.service.extensions).toContain('health_check');
  const { host, port } = splitHostPort(health.endpoint);
  expect(['127.0.0.1', 'localhost', '::1']).not.toContain(host);
  for (const probe of ['startupProbe', 'readinessProbe', 'livenessProbe']) {
    expect(vigil[probe]?.httpGet, `vigil has a ${probe}`).toBeDefined();
    expect(resolvePort(vigil, vigil[probe].httpGet.port), probe).toBe(port);
    expect(vigil[probe].httpGet.path, probe).toBe(health.path);
  }

  // Declared ports are the ones the config listens on.
  const declared = (vigil.ports as Yaml[]).map((p) => p.containerPort);
  const otlp = cfg.receivers.get('otlp')!.config as Yaml;
  for (const proto of ['grpc', 'http']) if (otlp.protocols[proto]) expect(declared).toContain(portOf(otlp.protocols[proto].endpoint));
  expect(declared).toContain(portOf(cfg.service.telemetry.metrics.address!));
  expect(declared).toContain(port);
  expect([...declared].sort((a, b) => a - b)).toEqual([4317, 4318, 8888, 13133]);

  // Durable state on the per-replica volume claim.
  const claims = new Set(((w.spec as Yaml).volumeClaimTemplates ?? []).map((t: Yaml) => t.metadata.name));
  const worm = cfg.exporters.get('worm')!.config as Yaml;
  const dirs = [worm.directory, (cfg.processors.get('anomaly')!.config as Yaml).state.directory];
  if (cfg.extensions.has('file_storage')) dirs.push((cfg.extensions.get('file_storage')!.config as Yaml).directory);
  for (const d of dirs) expect(claims.has(mountFor(vigil, d).mount.name), `${d} is on a PersistentVolumeClaim`).toBe(true);

  // The signing key: never generated in the pod; installed 0600 from the Secret by an init container that runs first.
  expect(worm.signing.generate).toBe(false);
  const keyVolume = mountFor(vigil, worm.signing.key_file).mount.name;
  expect((pod.volumes as Yaml[]).find((v) => v.name === keyVolume)!.emptyDir, 'the key sits in an emptyDir').toBeDefined();
  const inits = pod.initContainers as Yaml[];
  const installer = inits.slice(0, inits.indexOf(vigil)).find((c) => (c.volumeMounts ?? []).some((vm: Yaml) => vm.name === keyVolume)) as Yaml;
  expect(installer, 'an init container before vigil fills the key volume').toBeDefined();
  expect(installer.restartPolicy).toBeUndefined();
  const script = [...(installer.command ?? []), ...(installer.args ?? [])].join(' ');
  expect(script).toContain(worm.signing.key_file);
  expect(script).toMatch(/-m 0?600/);
  const secretVolumes = (pod.volumes as Yaml[]).filter((v) => v.secret && (installer.volumeMounts as Yaml[]).some((vm) => vm.name === v.name));
  expect(secretVolumes).toHaveLength(1);
  const secretMount = (installer.volumeMounts as Yaml[]).find((vm) => vm.name === secretVolumes[0].name)!;
  const source = script.split(/\s+/).find((t) => t.startsWith(`${secretMount.mountPath}/`))!;
  expect(m.keys('Secret', nsOf(w), secretVolumes[0].secret.secretName)).toContain(posix.relative(secretMount.mountPath, source));
  expect(pod.securityContext.fsGroup, 'fsGroup lets the non-root init container read the Secret').toBe(pod.securityContext.runAsGroup);

  // Secrets: S3 credentials and the pseudonymisation key come from Secrets.
  if (worm.s3) for (const k of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY']) expect(env[k]).toMatch(/^secret:/);
  const pseudo = (cfg.processors.get('audit')!.config as Yaml).pseudonymisation;
  if (pseudo?.key_env) expect(env[pseudo.key_env]).toMatch(/^secret:/);

  // Shutdown: the grace period covers Vigil's drain.
  expect(pod.terminationGracePeriodSeconds * 1000).toBeGreaterThan(cfg.service.shutdown_timeout);
  // The app sends to the sidecar's loopback receiver.
  const app = pod.containers[0];
  const appEndpoint = containerEnv(app).OTEL_EXPORTER_OTLP_LOGS_ENDPOINT;
  expect(appEndpoint).toBe(`http://${otlp.protocols.http.endpoint}/v1/logs`);
  return cfg;
}

describe('examples/kubernetes/vigil-sidecar.yaml', () => {
  it('parses, and every reference in it resolves', () => {
    const m = new Manifest(parseManifest('vigil-sidecar.yaml'));
    expect(m.workloads().map((w) => w.kind)).toEqual(['StatefulSet']);
    for (const w of m.workloads()) checkWorkloadReferences(m, w);
  });

  it('the Vigil config in the ConfigMap validates, and probes, ports, mounts and Secrets agree with it', () => {
    const m = new Manifest(parseManifest('vigil-sidecar.yaml'));
    const cfg = checkVigilSidecar(m, m.workloads()[0]);
    expect(cfg.service.pipelines[0].exporters).toEqual(['worm']);
  });
});

describe('examples/kubernetes/vigil-sidecar-with-collector.yaml', () => {
  const m = () => new Manifest(parseManifest('vigil-sidecar-with-collector.yaml'));

  it('parses, and every reference in it resolves', () => {
    const man = m();
    expect(man.workloads().map((w) => w.kind).sort()).toEqual(['Deployment', 'StatefulSet']);
    for (const w of man.workloads()) checkWorkloadReferences(man, w);
  });

  it("Vigil's downstream is the Collector's Service, port and receiver; the Collector config is consistent", () => {
    const man = m();
    const sidecar = man.workloads().find((w) => w.kind === 'StatefulSet')!;
    const cfg = checkVigilSidecar(man, sidecar);
    const down = cfg.exporters.get('otlp_grpc/collector')!.config as Yaml;
    expect((down.sending_queue as Yaml).storage).toBe('file_storage');
    // Across pods: TLS with a CA mounted into the sidecar, and a bearer token from a Secret.
    expect((down.tls as Yaml).insecure).toBe(false);
    const vigilContainer = (podSpec(sidecar).initContainers as Yaml[]).find((c) => c.name === 'vigil')!;
    mountFor(vigilContainer, (down.tls as Yaml).ca_file);
    expect((down.headers as Yaml).authorization).toMatch(/^Bearer secret:collector-ingest-token\/token$/);
    const { host, port } = splitHostPort(down.endpoint);
    const [svcName, svcNs] = host.split('.');
    expect(host).toBe(`${svcName}.${svcNs}.svc.cluster.local`);
    const svc = man.find('Service', svcNs, svcName);
    expect(svc, `Service ${svcNs}/${svcName}`).toBeDefined();
    const svcPort = ((svc!.spec as Yaml).ports as Yaml[]).find((p) => p.port === port) as Yaml;
    expect(svcPort, `Service ${svcName} exposes ${port}`).toBeDefined();

    const collector = man.workloads().find((w) => w.kind === 'Deployment' && nsOf(w) === svcNs)!;
    const selector = (svc!.spec as Yaml).selector as Record<string, string>;
    expect((collector.spec as Yaml).template.metadata.labels).toMatchObject(selector);
    const container = podSpec(collector).containers[0];
    const target = resolvePort(container, svcPort.targetPort ?? svcPort.port);

    const col = parseYaml(mountedConfigText(man, collector, container)) as Yaml;
    checkCollectorWiring(col);
    expect(portOf(col.receivers.otlp.protocols.grpc.endpoint)).toBe(target);
    // The gateway serves TLS from a mounted Secret and requires the token Vigil sends.
    const grpcIn = col.receivers.otlp.protocols.grpc;
    mountFor(container, grpcIn.tls.cert_file);
    expect(col.extensions[grpcIn.auth.authenticator]).toBeDefined();
    expect(col.service.extensions).toContain(grpcIn.auth.authenticator);
    const healthPort = portOf(col.extensions.health_check.endpoint);
    for (const probe of ['readinessProbe', 'livenessProbe']) expect(resolvePort(container, container[probe].httpGet.port)).toBe(healthPort);
    // Every ${env:X} the Collector config uses is set on its container.
    const env = containerEnv(container);
    for (const [, name] of JSON.stringify(col).matchAll(/\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}/g)) expect(Object.keys(env)).toContain(name);
    // Synchronous to the SIEM: Vigil's persistent queue is the only buffer on the way.
    for (const e of col.service.pipelines.logs.exporters) {
      expect(col.exporters[e].sending_queue?.enabled, `${e} has no queue`).toBe(false);
      expect(col.exporters[e].retry_on_failure?.enabled, `${e} does not retry`).toBe(false);
    }
    expect(portOf(down.endpoint)).toBe(target);
  });
});
