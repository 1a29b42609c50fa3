// What the hardening turns away, as Prometheus counters on the shared
// registry: requests without valid credentials and connections over the cap.
// Every server (receiver, telemetry, health_check) shares the two metrics and
// differs by its labels.
import { Counter } from 'prom-client';
import type { Telemetry } from '../telemetry/metrics.js';

type RequestLabels = 'server' | 'transport' | 'reason';

export class SecurityMetrics {
  readonly refusedRequests: Counter<RequestLabels>;
  readonly refusedConnections: Counter<RequestLabels>;

  constructor(telemetry: Telemetry | undefined) {
    const reg = telemetry?.registry;
    const counter = (name: string, help: string) =>
      (reg?.getSingleMetric(name) as Counter<RequestLabels> | undefined) ??
      new Counter<RequestLabels>({ name, help, labelNames: ['server', 'transport', 'reason'], registers: reg ? [reg] : [] });
    this.refusedRequests = counter(
      'vigil_server_refused_requests_total',
      'Requests refused before they were read, by reason (unauthenticated: no or wrong credentials). Nothing of them was stored.',
    );
    this.refusedConnections = counter(
      'vigil_server_refused_connections_total',
      'Connections closed as soon as they were accepted, by reason (max_connections: the cap was reached).',
    );
  }
}
