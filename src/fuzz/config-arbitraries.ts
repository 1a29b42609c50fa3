// fast-check generators of configs: arbitrary YAML-ish structures built from
// the words a Vigil config uses (so they reach past the first check), valid
// configs (which must load), mutations of those, YAML texts (anchors, aliases,
// tags, merge keys included) and environments for ${env:…} expansion.
import fc from 'fast-check';
import { stringify as yamlStringify } from 'yaml';
import type { Registry } from '../config/load.js';
import type { JsonMutation, TextMutation } from './json-mutate.js';
import { jsonMutation, textMutation } from './arbitraries.js';
import { applyTextMutation, mutateTree } from './json-mutate.js';

const SECTION_KEYS = ['receivers', 'processors', 'exporters', 'extensions', 'service', 'connectors'];
const SETTING_KEYS = [
  'pipelines', 'logs', 'logs/a', 'traces', 'telemetry', 'metrics', 'level', 'address', 'status_page', 'shutdown_timeout',
  'path', 'rotation', 'max_megabytes', 'max_backups', 'verbosity', 'endpoint', 'protocols', 'grpc', 'http', 'tls', 'insecure',
  'ca_file', 'cert_file', 'key_file', 'timeout', 'retry_on_failure', 'sending_queue', 'enabled', 'queue_size', 'storage',
  'num_consumers', 'headers', 'encoding', 'directory', 'limit_mib', 'spike_limit_mib', 'limit_percentage',
  'spike_limit_percentage', 'check_interval', 'initial_interval', 'max_interval', 'multiplier', 'randomization_factor',
  '__proto__', 'constructor', 'toString', 'hasOwnProperty', '', ' ', 'Receivers', 'logs/', '/x', 'file/a/b',
];

const SCALAR_STRINGS = [
  '${env:A}', '${env:B:-5s}', '${env:UNSET}', '${env:UNSET:-}', '$$', '$${env:A}', '${', '${x}', '${env:}', '${env:A}${env:B}',
  'prefix-${env:A}', '1h', '0s', '-1s', '1.5m', '1m30s', '9999999999999999d', '64MiB', '1e400', 'NaN', '.inf', '127.0.0.1:4317',
  ':0', '[::1]:99999', 'localhost', 'http://127.0.0.1:4318', 'basic', 'detailed', 'none', 'debug', 'info', 'json', 'proto', '/tmp/x',
  '', '\u0000', 'true', 'null', '~',
];

/** Maps and lists of config words and edge-case scalars, up to a bounded depth. */
export function configStructure(registry: Registry): fc.Arbitrary<unknown> {
  const types = [...new Set([...registry.values()].map((f) => f.type))];
  const ids = [...types, ...types.map((t) => `${t}/x`), 'nope', 'Bad Id'];
  const key = fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(...SETTING_KEYS, ...ids) },
    { weight: 1, arbitrary: fc.string({ maxLength: 8 }) },
  );
  const scalar = fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...SCALAR_STRINGS, ...ids) },
    fc.string({ maxLength: 12 }),
    fc.integer(),
    fc.constantFrom(0, -1, 1.5, 65536, 1e21, NaN, Infinity, -Infinity, -0),
    fc.double(),
    fc.boolean(),
    fc.constant(null),
  );
  const { node } = fc.letrec<{ node: unknown }>((tie) => ({
    node: fc.oneof(
      { depthSize: 'small', maxDepth: 5 },
      scalar,
      fc.array(tie('node'), { maxLength: 3 }),
      fc.array(fc.constantFrom(...ids), { maxLength: 3 }),
      fc.dictionary(key, tie('node'), { maxKeys: 4 }),
    ),
  }));
  return fc.dictionary(fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...SECTION_KEYS) }, key), node, { maxKeys: 6 });
}

/** Environments for ${env:…}: unset, empty, typed, YAML documents, and hostile values. */
export const configEnv: fc.Arbitrary<Record<string, string>> = fc.dictionary(
  fc.constantFrom('A', 'B', 'C'),
  fc.oneof(
    fc.constantFrom('', '5', '5s', 'true', 'null', '[1, 2]', '{a: 1}', '&x [*x]', '*nope', '${env:A}', '9'.repeat(400), 'a: [', '!!binary AAAA'),
    fc.string({ maxLength: 12 }),
  ),
  { maxKeys: 3 },
);

/** Configs that must load: a few components of the known types, with valid settings, wired into pipelines. */
export function validConfig(dir: string): fc.Arbitrary<Record<string, unknown>> {
  const name = fc.constantFrom('', '/a', '/b_2', '/x.y-z');
  const memoryLimiter = fc.oneof(
    fc.integer({ min: 2, max: 1 << 20 }).chain((limit) =>
      fc.record(
        { limit_mib: fc.constant(limit), spike_limit_mib: fc.integer({ min: 0, max: limit - 1 }), check_interval: fc.constantFrom('1s', '250ms', 2000, '1m') },
        { requiredKeys: ['limit_mib'] },
      ),
    ),
    fc.record({ limit_percentage: fc.integer({ min: 20, max: 100 }), spike_limit_percentage: fc.integer({ min: 0, max: 19 }) }, { requiredKeys: ['limit_percentage'] }),
  );
  const file = fc.record(
    { path: fc.constantFrom(`${dir}/out.jsonl`, 'relative/out.jsonl'), rotation: fc.record({ max_megabytes: fc.integer({ min: 1, max: 1000 }), max_backups: fc.nat(10) }) },
    { requiredKeys: ['path'] },
  );
  const debug = fc.record({ verbosity: fc.constantFrom('basic', 'normal', 'detailed') }, { requiredKeys: [] });
  return fc
    .record({
      limiters: fc.uniqueArray(fc.tuple(name, memoryLimiter), { maxLength: 2, selector: ([n]) => n }),
      files: fc.uniqueArray(fc.tuple(name, file), { minLength: 1, maxLength: 2, selector: ([n]) => n }),
      debugs: fc.uniqueArray(fc.tuple(name, debug), { maxLength: 1, selector: ([n]) => n }),
      health: fc.boolean(),
      shutdown: fc.constantFrom(undefined, '5s', 1000, '1m30s'),
    })
    .map(({ limiters, files, debugs, health, shutdown }) => {
      const processors = Object.fromEntries(limiters.map(([n, c]) => [`memory_limiter${n}`, c]));
      const exporters = { ...Object.fromEntries(files.map(([n, c]) => [`file${n}`, c])), ...Object.fromEntries(debugs.map(([n, c]) => [`debug${n}`, c])) };
      const service: Record<string, unknown> = {
        pipelines: { logs: { processors: Object.keys(processors), exporters: Object.keys(exporters) } },
      };
      if (shutdown !== undefined) service.shutdown_timeout = shutdown;
      const cfg: Record<string, unknown> = { processors, exporters, service };
      if (health) {
        cfg.extensions = { health_check: { endpoint: '127.0.0.1:0' } };
        service.extensions = ['health_check'];
      }
      return cfg;
    });
}

/** A valid config with structural mutations applied to its tree. */
export function mutatedConfig(dir: string): fc.Arbitrary<unknown> {
  return fc
    .tuple(validConfig(dir), fc.array(jsonMutation, { minLength: 1, maxLength: 3 }))
    .map(([cfg, ms]: [Record<string, unknown>, JsonMutation[]]) => mutateTree(cfg, ms.filter((m) => m.op !== 'duplicate_key')));
}

const YAML_SNIPPETS = [
  'a: &x [*x]\n',
  'base: &b {path: /tmp/x}\nexporters:\n  file:\n    <<: *b\nservice: {pipelines: {logs: {exporters: [file]}}}\n',
  'exporters: {file: {path: !!binary AAAA}}\n',
  'exporters: !!set {file}\n',
  'exporters: !!omap [file: {path: /x}]\n',
  'service: {shutdown_timeout: !!float .nan}\n',
  'exporters: {file: {path: 2026-01-01}}\n',
  'a: &a [1]\nb: &b [*a, *a, *a, *a]\nc: &c [*b, *b, *b, *b]\nd: [*c, *c, *c, *c]\n',
  '%YAML 1.1\n---\nexporters: {}\n',
  '---\na: 1\n---\nb: 2\n',
  '? [complex, key]\n: value\n',
  'exporters: {file: {path: "\\ud800"}}\n',
  '\ufeffexporters: {}\n',
  'exporters:\n\tfile: {}\n',
  '- just\n- a\n- list\n',
  '"just a string"\n',
  '',
];

/** YAML texts: valid configs written out, snippets with YAML's sharper features, each possibly mutated as text. */
export function configYaml(dir: string): fc.Arbitrary<string> {
  return fc
    .tuple(
      fc.oneof(validConfig(dir).map((c) => yamlStringify(c)), fc.constantFrom(...YAML_SNIPPETS)),
      fc.array(textMutation, { maxLength: 2 }),
    )
    .map(([t, ms]: [string, TextMutation[]]) => ms.reduce(applyTextMutation, t));
}
