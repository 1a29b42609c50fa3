// The component model, after the OpenTelemetry Collector's: every component is a
// factory (type name + config schema with defaults + create) and an instance with
// start/shutdown. The pipeline knows components only through these interfaces.
import type { z } from 'zod';
import type { Logger } from '../telemetry/logger.js';
import type { Telemetry } from '../telemetry/metrics.js';
import type { LogBatch, ReadonlyBatch } from './record.js';

export type ComponentKind = 'receiver' | 'processor' | 'exporter' | 'extension';

/** What a request will cost, known before it is decoded (its size as received, after decompression, and its record count). */
export interface RequestCost {
  bytes: number;
  records: number;
}

/** Consumes a batch; resolves once every record is durably accepted downstream, rejects with a Refusal otherwise. */
export interface Consumer {
  consume(batch: LogBatch): Promise<void>;
  /** Throws a Refusal when a request of this cost cannot be taken, before it is decoded (memory_limiter). */
  admit?(cost: RequestCost): void;
  /**
   * Whether it reads every record's attributes and body (a pipeline with audit
   * or anomaly): its receiver then decodes them at once, which costs less than
   * leaving them as bytes (validated) and decoding them on first read.
   */
  readonly readsRecords?: boolean;
}

export interface Lifecycle {
  start?(host: Host): Promise<void>;
  /** Stops taking work and flushes what was accepted; must resolve before the deadline signal aborts. */
  shutdown?(signal: AbortSignal): Promise<void>;
  /**
   * A snapshot of the component's state for the status page, which recognises the
   * shapes it knows (an archive: src/telemetry/status/sources.ts) and ignores others.
   */
  status?(): unknown;
}

export interface Receiver extends Lifecycle {
  /** Addresses it listens on, for the start-up banner. */
  describe?(): string[];
}

export interface Processor extends Lifecycle {
  /**
   * Transforms a batch. May mutate the records in place, drop records, or append
   * new ones (alerts), if and only if its factory declares `mutatesData: true`.
   * Throws a Refusal to refuse the whole batch (memory limit).
   */
  process(batch: LogBatch): LogBatch | Promise<LogBatch>;
  /** Throws a Refusal to refuse a request before it is decoded, from what it will cost. */
  admit?(cost: RequestCost): void;
}

export interface Exporter extends Lifecycle {
  /**
   * Takes the batch read-only: it may be shared with other exporters and
   * pipelines. Resolves once every record is durably accepted, rejects with a
   * Refusal otherwise. (A method, so still bivariant: an exporter that declares
   * `consume(batch: LogBatch)` compiles, and only the run-time check of
   * `checkReadOnly` holds it to its word. Declare `ReadonlyBatch`.)
   */
  consume(batch: ReadonlyBatch): Promise<void>;
  describe?(): string[];
  /**
   * True when it hands records of its own to its sibling exporters
   * (CreateContext.publish): it is then started after them and shut down
   * before them, so what it publishes while starting or stopping is delivered.
   */
  readonly publishes?: boolean;
}

export interface Extension extends Lifecycle {
  describe?(): string[];
}

export type ServiceState = 'starting' | 'ready' | 'stopping' | 'stopped';

/** What a running component can see of the others: extensions by id, and the service state. */
export interface Host {
  getExtension<T extends Extension>(id: string): T | undefined;
  readonly state: ServiceState;
}

export interface CreateContext {
  /** The component's id as written in config: `type` or `type/name`. */
  id: string;
  logger: Logger;
  telemetry: Telemetry;
  /** The consumer a receiver feeds (the pipelines it belongs to). Undefined for other kinds. */
  next?: Consumer;
  /**
   * For exporters: hands records the exporter itself produced (the archive's
   * checkpoints) to every other exporter of the pipelines it is in, never back
   * to itself; they skip the processors. Resolves once all of them took it.
   */
  publish?: (batch: LogBatch) => Promise<void>;
}

export interface Factory<C = unknown, T = unknown> {
  kind: ComponentKind;
  type: string;
  /** Validates and fills defaults; its errors name the offending key. */
  configSchema: z.ZodType<C>;
  create(config: C, ctx: CreateContext): T | Promise<T>;
  /**
   * Whether its instances change the records they are given (the Collector's
   * `MutatesData` capability). Fan-out copies a batch only for consumers that
   * do. Unset means true for a processor (the safe guess) and false for an
   * exporter (exporters take records read-only).
   */
  mutatesData?: boolean;
  /**
   * Whether its instances read every record's attributes or body (see
   * Consumer.readsRecords). Unset means true for a processor (the safe guess:
   * decoding at once costs less than decoding on first read when everything is
   * read) and false otherwise (exporters read as they encode).
   */
  readsRecords?: boolean;
}

export type ReceiverFactory<C = any> = Factory<C, Receiver> & { kind: 'receiver' };
export type ProcessorFactory<C = any> = Factory<C, Processor> & { kind: 'processor' };
export type ExporterFactory<C = any> = Factory<C, Exporter> & { kind: 'exporter' };
export type ExtensionFactory<C = any> = Factory<C, Extension> & { kind: 'extension' };
export type AnyFactory = ReceiverFactory | ProcessorFactory | ExporterFactory | ExtensionFactory;

/** `type/name` → `type`. */
export function componentType(id: string): string {
  const slash = id.indexOf('/');
  return slash < 0 ? id : id.slice(0, slash);
}

/** What a component's factory declared (or the kind's default): whether it reads every record's attributes or body. */
export function readsRecords(factory: Pick<AnyFactory, 'kind' | 'readsRecords'>): boolean {
  return factory.readsRecords ?? factory.kind === 'processor';
}

/** What a component's factory declared (or the kind's default): whether it changes the records it is given. */
export function mutatesData(factory: Pick<AnyFactory, 'kind' | 'mutatesData'>): boolean {
  return factory.mutatesData ?? factory.kind === 'processor';
}
