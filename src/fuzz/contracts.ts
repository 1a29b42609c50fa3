// What each input-facing function promises, as executable checks. A check
// returns how the input was answered, or throws a Violation describing the
// broken promise. The decoders' contract:
//   - they return, or refuse with a Refusal whose code is INVALID_ARGUMENT; nothing else escapes;
//   - every record of a request is either accepted or counted as rejected (partial success);
//   - what they accept, the exporters can write: both encodings succeed and read back equal;
//   - the decoded form is at most a constant factor larger than the input (memory stays bounded).
// The config loader's: it returns a config, or throws a ConfigError whose issues each carry a path and a message.
import type { Registry, ValidateOptions } from '../config/load.js';
import { parseConfigText, validateConfig } from '../config/load.js';
import { ConfigError } from '../config/errors.js';
import {
  batchToRequest,
  countRecords,
  decodeProtobufRequest,
  encodeProtobufRequest,
  requestToBatch,
  type ExportRequestMessage,
} from '../otlp/convert.js';
import { decodeJsonRequest, encodeJsonRequest } from '../otlp/json.js';
import { Refusal } from '../pipeline/errors.js';
import type { LogBatch } from '../pipeline/record.js';

export class Violation extends Error {
  override name = 'Violation';
}

/** How a case was answered. */
export type Outcome = 'accepted' | 'partial' | 'refused';

/** The decoded form may be this many times the input's size (plus a constant): an empty 2-byte message becomes ~45 characters of JSON. */
const MAX_AMPLIFICATION = 64;
const AMPLIFICATION_SLACK = 4096;

export function describeError(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message.slice(0, 300)}${err.stack ? `\n${err.stack.split('\n').slice(1, 6).join('\n')}` : ''}`;
  return `non-Error ${typeof err}: ${String(err).slice(0, 200)}`;
}

function expectInvalidArgument(err: unknown, what: string): void {
  if (err instanceof Refusal && err.code === 'INVALID_ARGUMENT' && err.message.length > 0) return;
  if (err instanceof Refusal) throw new Violation(`${what} refused with ${err.code} (only INVALID_ARGUMENT is right for bad input): ${err.message}`);
  throw new Violation(`${what} threw instead of refusing: ${describeError(err)}`);
}

function attempt<T>(what: string, f: () => T): T {
  try {
    return f();
  } catch (err) {
    throw new Violation(`${what}: ${describeError(err)}`);
  }
}

/** Accepted records must survive what the exporters do with them: encode (JSON and protobuf) and read back equal. */
export function checkAcceptedRecords(records: LogBatch, inputSize: number): void {
  const req = attempt('regrouping accepted records failed', () => batchToRequest(records));
  const json = attempt('accepted records cannot be encoded as OTLP/JSON', () => encodeJsonRequest(req));
  const pb = attempt('accepted records cannot be encoded as protobuf', () => encodeProtobufRequest(req));
  if (json.length > MAX_AMPLIFICATION * inputSize + AMPLIFICATION_SLACK) {
    throw new Violation(`decoding amplified ${inputSize} input bytes to ${json.length} characters of JSON`);
  }
  let viaPb: ExportRequestMessage;
  try {
    viaPb = decodeProtobufRequest(pb);
  } catch (err) {
    throw new Violation(`accepted records, encoded as protobuf, are refused by the protobuf decoder: ${describeError(err)}`);
  }
  const pbJson = attempt('re-decoded protobuf cannot be encoded as JSON', () => encodeJsonRequest(viaPb));
  if (pbJson !== json) throw new Violation(`accepted records change through a protobuf round trip:\n  ${json.slice(0, 400)}\n  ${pbJson.slice(0, 400)}`);
  let viaJson;
  try {
    viaJson = decodeJsonRequest(json);
  } catch (err) {
    throw new Violation(`accepted records, encoded as OTLP/JSON, are refused by the JSON decoder: ${describeError(err)}`);
  }
  if (viaJson.rejected !== 0) throw new Violation(`accepted records, encoded as OTLP/JSON, are rejected by the JSON decoder: ${viaJson.rejectReason}`);
  const jsonJson = encodeJsonRequest(viaJson.request);
  if (jsonJson !== json) throw new Violation(`accepted records change through an OTLP/JSON round trip:\n  ${json.slice(0, 400)}\n  ${jsonJson.slice(0, 400)}`);
}

/** The protobuf decoder's contract on any bytes. */
export function checkProtobufInput(bytes: Uint8Array): Outcome {
  let req: ExportRequestMessage;
  try {
    req = decodeProtobufRequest(bytes);
  } catch (err) {
    expectInvalidArgument(err, 'decodeProtobufRequest');
    return 'refused';
  }
  const total = attempt('countRecords threw on a decoded request', () => countRecords(req));
  const batch = attempt('requestToBatch threw on a decoded request', () => requestToBatch(req));
  if (batch.records.length + batch.rejected !== total) {
    throw new Violation(`${total} records were sent but ${batch.records.length} accepted and ${batch.rejected} rejected`);
  }
  if (batch.rejected > 0 && !batch.rejectReason) throw new Violation('records were rejected without a reason');
  checkAcceptedRecords(batch.records, bytes.length);
  return batch.rejected > 0 ? 'partial' : 'accepted';
}

function field(o: Record<string, unknown>, camel: string, snake: string): unknown {
  return o[camel] !== undefined ? o[camel] : o[snake];
}

const asList = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const asObj = (v: unknown): Record<string, unknown> => (v !== null && typeof v === 'object' ? (v as Record<string, unknown>) : {});

/** How many log records a (decodable) OTLP/JSON text holds, counted independently of the decoder. */
export function countJsonRecords(text: string): number {
  let n = 0;
  for (const rl of asList(field(asObj(JSON.parse(text)), 'resourceLogs', 'resource_logs'))) {
    for (const sl of asList(field(asObj(rl), 'scopeLogs', 'scope_logs'))) n += asList(field(asObj(sl), 'logRecords', 'log_records')).length;
  }
  return n;
}

/** The OTLP/JSON decoder's contract on any text. */
export function checkJsonInput(text: string): Outcome {
  let decoded: ReturnType<typeof decodeJsonRequest>;
  try {
    decoded = decodeJsonRequest(text);
  } catch (err) {
    expectInvalidArgument(err, 'decodeJsonRequest');
    return 'refused';
  }
  if (!Number.isInteger(decoded.rejected) || decoded.rejected < 0) throw new Violation(`rejected count is ${decoded.rejected}`);
  if (decoded.rejected > 0 && !decoded.rejectReason) throw new Violation('records were rejected without a reason');
  const batch = attempt('requestToBatch threw on a decoded JSON request', () => requestToBatch(decoded.request));
  const sent = countJsonRecords(text);
  const answered = batch.records.length + batch.rejected + decoded.rejected;
  if (answered !== sent) throw new Violation(`${sent} records were sent but ${batch.records.length} accepted and ${batch.rejected + decoded.rejected} rejected`);
  checkAcceptedRecords(batch.records, Buffer.byteLength(text));
  return decoded.rejected + batch.rejected > 0 ? 'partial' : 'accepted';
}

/** A valid request survives both codecs and the batch form unchanged. */
export function checkRoundTrip(req: ExportRequestMessage): Outcome {
  const expected = attempt('encoding a valid request as JSON failed', () => encodeJsonRequest(req));
  const pb = attempt('encoding a valid request as protobuf failed', () => encodeProtobufRequest(req));
  let viaPb: ExportRequestMessage;
  try {
    viaPb = decodeProtobufRequest(pb);
  } catch (err) {
    throw new Violation(`a valid request was refused by the protobuf decoder: ${describeError(err)}`);
  }
  const pbJson = encodeJsonRequest(viaPb);
  if (pbJson !== expected) throw new Violation(`protobuf round trip changed the request:\n  ${expected.slice(0, 400)}\n  ${pbJson.slice(0, 400)}`);
  if (!Buffer.from(encodeProtobufRequest(viaPb)).equals(Buffer.from(pb))) throw new Violation('re-encoding a decoded request changed its protobuf bytes');
  let viaJson;
  try {
    viaJson = decodeJsonRequest(expected);
  } catch (err) {
    throw new Violation(`a valid request was refused by the OTLP/JSON decoder: ${describeError(err)}`);
  }
  if (viaJson.rejected !== 0) throw new Violation(`the OTLP/JSON decoder rejected records of a valid request: ${viaJson.rejectReason}`);
  const jsonJson = encodeJsonRequest(viaJson.request);
  if (jsonJson !== expected) throw new Violation(`OTLP/JSON round trip changed the request:\n  ${expected.slice(0, 400)}\n  ${jsonJson.slice(0, 400)}`);
  const batch = requestToBatch(viaPb);
  if (batch.rejected !== 0 || batch.records.length !== countRecords(req)) throw new Violation(`requestToBatch lost records of a valid request (${batch.rejectReason})`);
  const regrouped = encodeJsonRequest(batchToRequest(batch.records));
  if (regrouped !== expected) throw new Violation(`request → batch → request changed it:\n  ${expected.slice(0, 400)}\n  ${regrouped.slice(0, 400)}`);
  return 'accepted';
}

function expectConfigError(err: unknown, what: string): void {
  if (!(err instanceof ConfigError)) throw new Violation(`${what} threw instead of a ConfigError: ${describeError(err)}`);
  if (err.issues.length === 0) throw new Violation(`${what} threw a ConfigError with no issues`);
  for (const i of err.issues) {
    if (typeof i.path !== 'string' || typeof i.message !== 'string' || i.message.length === 0) {
      throw new Violation(`${what} reported an issue without a path or message: ${JSON.stringify(i)}`);
    }
  }
}

/** The config loader's contract on any structure (what YAML parsing could produce, and more). */
export function checkConfigStructure(raw: unknown, registry: Registry, opts: ValidateOptions): Outcome {
  try {
    validateConfig(raw, registry, 'fuzz', opts);
    return 'accepted';
  } catch (err) {
    expectConfigError(err, 'validateConfig');
    return 'refused';
  }
}

/** The config loader's contract on any YAML text, parsing included. */
export function checkConfigText(text: string, registry: Registry, opts: ValidateOptions): Outcome {
  let raw: unknown;
  try {
    raw = parseConfigText(text, 'fuzz.yaml');
  } catch (err) {
    expectConfigError(err, 'parseConfigText');
    return 'refused';
  }
  return checkConfigStructure(raw, registry, opts);
}

/** A valid config must load. */
export function checkValidConfig(raw: unknown, registry: Registry): Outcome {
  try {
    validateConfig(raw, registry, 'fuzz', { env: {} });
  } catch (err) {
    throw new Violation(`a valid config was refused: ${describeError(err)}`);
  }
  return 'accepted';
}
