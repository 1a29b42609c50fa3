// Self-telemetry: Prometheus metrics named after the Collector's own
// (otelcol_receiver_accepted_log_records → vigil_receiver_accepted_log_records_total).
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';

export class Telemetry {
  readonly registry: Registry;
  readonly receiverAccepted: Counter<'receiver' | 'transport'>;
  readonly receiverRefused: Counter<'receiver' | 'transport'>;
  readonly exporterSent: Counter<'exporter'>;
  readonly exporterSendFailed: Counter<'exporter'>;
  readonly exporterEnqueueFailed: Counter<'exporter'>;
  readonly exporterQueueSize: Gauge<'exporter'>;
  readonly exporterQueueCapacity: Gauge<'exporter'>;
  readonly processorIncoming: Counter<'processor'>;
  readonly processorOutgoing: Counter<'processor'>;

  constructor(opts: { processMetrics?: boolean } = {}) {
    this.registry = new Registry();
    if (opts.processMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: 'vigil_' });
    const r = [this.registry];
    this.receiverAccepted = new Counter({
      name: 'vigil_receiver_accepted_log_records_total',
      help: 'Log records successfully pushed into the pipeline (acknowledged to the client).',
      labelNames: ['receiver', 'transport'],
      registers: r,
    });
    this.receiverRefused = new Counter({
      name: 'vigil_receiver_refused_log_records_total',
      help: 'Log records that could not be pushed into the pipeline (the client was told to retry or that they were invalid).',
      labelNames: ['receiver', 'transport'],
      registers: r,
    });
    this.exporterSent = new Counter({
      name: 'vigil_exporter_sent_log_records_total',
      help: 'Log records successfully sent (or durably written) by the exporter.',
      labelNames: ['exporter'],
      registers: r,
    });
    this.exporterSendFailed = new Counter({
      name: 'vigil_exporter_send_failed_log_records_total',
      help: 'Log records the exporter failed to send and gave up on (permanent errors or retries exhausted).',
      labelNames: ['exporter'],
      registers: r,
    });
    this.exporterEnqueueFailed = new Counter({
      name: 'vigil_exporter_enqueue_failed_log_records_total',
      help: 'Log records refused because the exporter queue was full.',
      labelNames: ['exporter'],
      registers: r,
    });
    this.exporterQueueSize = new Gauge({
      name: 'vigil_exporter_queue_size',
      help: 'Batches currently waiting in the exporter sending queue.',
      labelNames: ['exporter'],
      registers: r,
    });
    this.exporterQueueCapacity = new Gauge({
      name: 'vigil_exporter_queue_capacity',
      help: 'Capacity of the exporter sending queue, in batches.',
      labelNames: ['exporter'],
      registers: r,
    });
    this.processorIncoming = new Counter({
      name: 'vigil_processor_incoming_log_records_total',
      help: 'Log records entering the processor.',
      labelNames: ['processor'],
      registers: r,
    });
    this.processorOutgoing = new Counter({
      name: 'vigil_processor_outgoing_log_records_total',
      help: 'Log records leaving the processor (alerts it raised included).',
      labelNames: ['processor'],
      registers: r,
    });
  }
}
