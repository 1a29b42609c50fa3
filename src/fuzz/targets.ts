// The fuzz targets: each pairs a generator with the contract it must keep.
// Used by the vitest suites (a few thousand cases, fixed seeds) and by the
// standalone runner (`npm run fuzz`, any number of cases and seeds).
import fc from 'fast-check';
import { stringify as yamlStringify } from 'yaml';
import { parseConfigText, type Registry } from '../config/load.js';
import type { ExportRequestMessage } from '../otlp/convert.js';
import { mutatedJson, mutatedProtobuf, otlpShapedJson, randomBytes, randomJsonText, validRequest } from './arbitraries.js';
import { configEnv, configStructure, configYaml, mutatedConfig, validConfig } from './config-arbitraries.js';
import {
  checkConfigStructure,
  checkConfigText,
  checkJsonInput,
  checkProtobufInput,
  checkRoundTrip,
  checkValidConfig,
  type Outcome,
} from './contracts.js';
import { serialise } from './json-mutate.js';
import { amplificationTargets } from './amplification-targets.js';
import { auditTargets } from './audit-targets.js';
import { archiveTargets } from './archive-targets.js';
import { wireTargets } from './wire-targets.js';

export interface FuzzTarget<T = unknown> {
  name: string;
  /** Relative share of the cases in a run. */
  weight: number;
  arbitrary: fc.Arbitrary<T>;
  /** Answers one case; an `async` target's answer is a promise (run with runSessionAsync). */
  check(input: T): Outcome | Promise<Outcome>;
  /** Its checks do I/O (the archive verifier reads files): the runner awaits each case. */
  async?: boolean;
  /** Frees what the target built for a session (temp archives), after its last case. */
  teardown?(): Promise<void>;
  /** The input as a person can read it, for failure reports. */
  show(input: T): string;
}

const MAX_SHOW = 2000;
const clip = (s: string) => (s.length > MAX_SHOW ? `${s.slice(0, MAX_SHOW)}… (${s.length} chars)` : s);
const showBytes = (b: Uint8Array) => `${b.length} bytes: ${clip(Buffer.from(b).toString('hex'))}`;
const showText = (s: string) => clip(JSON.stringify(s));

function target<T>(t: FuzzTarget<T>): FuzzTarget {
  return t as unknown as FuzzTarget;
}

/** A directory named in generated configs (never created: validation does not touch the disk). */
const CONFIG_DIR = '/tmp/vigil-fuzz-config';

export function fuzzTargets(registry: Registry): FuzzTarget[] {
  return [
    target<ExportRequestMessage>({
      name: 'otlp.roundtrip',
      weight: 2,
      arbitrary: validRequest({ nonEmpty: true }),
      check: checkRoundTrip,
      show: (r) => clip(serialise(r)),
    }),
    target<Uint8Array>({ name: 'protobuf.mutated', weight: 4, arbitrary: mutatedProtobuf, check: checkProtobufInput, show: showBytes }),
    target<Uint8Array>({ name: 'protobuf.random', weight: 1, arbitrary: randomBytes, check: checkProtobufInput, show: showBytes }),
    target<string>({ name: 'json.mutated', weight: 4, arbitrary: mutatedJson, check: checkJsonInput, show: showText }),
    target<string>({ name: 'json.random', weight: 1, arbitrary: randomJsonText, check: checkJsonInput, show: showText }),
    target<string>({ name: 'json.otlp-shaped', weight: 2, arbitrary: otlpShapedJson.map(serialise), check: checkJsonInput, show: showText }),
    target<[unknown, Record<string, string>, boolean]>({
      name: 'config.structure',
      weight: 2,
      arbitrary: fc.tuple(configStructure(registry), configEnv, fc.boolean()),
      check: ([raw, env, replay]) => checkConfigStructure(raw, registry, { env, mode: replay ? 'replay' : 'run' }),
      show: ([raw, env, replay]) => clip(`${serialise(raw)} env=${JSON.stringify(env)} replay=${replay}`),
    }),
    target<unknown>({
      name: 'config.mutated',
      weight: 1,
      arbitrary: mutatedConfig(CONFIG_DIR),
      check: (raw) => checkConfigStructure(raw, registry, { env: {} }),
      show: (raw) => clip(serialise(raw)),
    }),
    target<[string, Record<string, string>]>({
      name: 'config.yaml',
      weight: 1,
      arbitrary: fc.tuple(configYaml(CONFIG_DIR), configEnv),
      check: ([text, env]) => checkConfigText(text, registry, { env }),
      show: ([text, env]) => clip(`${JSON.stringify(text)} env=${JSON.stringify(env)}`),
    }),
    target<Record<string, unknown>>({
      name: 'config.valid',
      weight: 1,
      arbitrary: validConfig(CONFIG_DIR),
      check: (raw) => {
        checkValidConfig(raw, registry);
        // …and the same config written as YAML loads too.
        return checkValidConfig(parseConfigText(yamlStringify(raw), 'fuzz.yaml'), registry);
      },
      show: (raw) => clip(serialise(raw)),
    }),
    ...auditTargets(),
    ...amplificationTargets(),
    ...archiveTargets(),
    ...wireTargets(),
  ];
}

/** Splits `total` cases over the targets by weight (each gets at least one). */
export function allocate(targets: readonly FuzzTarget[], total: number): number[] {
  const sum = targets.reduce((n, t) => n + t.weight, 0);
  return targets.map((t) => Math.max(1, Math.round((total * t.weight) / sum)));
}
