// A small HTTP service that sends one OpenTelemetry log record per request
// (an access log with semantic-convention attributes) to Vigil over OTLP,
// using the OpenTelemetry logs SDK directly.
//
//   OTEL_EXPORTER_OTLP_LOGS_ENDPOINT=http://127.0.0.1:4318/v1/logs node examples/node-sdk/server.js
//   OTEL_EXPORTER_OTLP_LOGS_PROTOCOL=grpc OTEL_EXPORTER_OTLP_LOGS_ENDPOINT=http://127.0.0.1:4317 node examples/node-sdk/server.js
//
// Routes: GET /health, GET /orders/:id, POST /login ({"user": "...", "password": "..."}),
// GET /admin/export. The caller's identity is the x-user-id header (stand-in for your
// auth middleware). SIGTERM/SIGINT: stop accepting, flush the logs, exit 0.
import { SeverityNumber } from '@opentelemetry/api-logs';
import { defaultResource, detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import { BatchLogRecordProcessor, LoggerProvider } from '@opentelemetry/sdk-logs';
import { createServer } from 'node:http';

const SERVICE = process.env.OTEL_SERVICE_NAME ?? 'orders-api';
const PORT = Number(process.env.PORT ?? 8080);
const HOST = process.env.HOST ?? '127.0.0.1';

/** The exporter for OTEL_EXPORTER_OTLP_[LOGS_]PROTOCOL (default http/protobuf, as the specification says). */
async function otlpExporter() {
  const protocol = process.env.OTEL_EXPORTER_OTLP_LOGS_PROTOCOL ?? process.env.OTEL_EXPORTER_OTLP_PROTOCOL ?? 'http/protobuf';
  // Each exporter reads OTEL_EXPORTER_OTLP_LOGS_ENDPOINT / OTEL_EXPORTER_OTLP_ENDPOINT, headers, timeout and compression itself.
  switch (protocol) {
    case 'grpc':
      return new (await import('@opentelemetry/exporter-logs-otlp-grpc')).OTLPLogExporter();
    case 'http/json':
      return new (await import('@opentelemetry/exporter-logs-otlp-http')).OTLPLogExporter();
    case 'http/protobuf':
      return new (await import('@opentelemetry/exporter-logs-otlp-proto')).OTLPLogExporter();
    default:
      throw new Error(`unsupported OTLP protocol "${protocol}": use grpc, http/protobuf or http/json`);
  }
}

const provider = new LoggerProvider({
  // service.name plus whatever OTEL_RESOURCE_ATTRIBUTES adds (e.g. deployment.environment.name=prod).
  resource: defaultResource()
    .merge(detectResources({ detectors: [envDetector] }))
    .merge(resourceFromAttributes({ 'service.name': SERVICE })),
  processors: [new BatchLogRecordProcessor({ exporter: await otlpExporter() })],
});
const accessLog = provider.getLogger('orders-api.access', '1.0.0');

/** One access-log record: the attributes Vigil's audit processor reads (semconv names, seconds for durations). */
function logRequest(req, res, route, userId, bytes, startedAt) {
  const status = res.statusCode;
  const url = new URL(req.url ?? '/', 'http://placeholder');
  const attributes = {
    'http.request.method': req.method,
    'url.path': url.pathname,
    'http.response.status_code': status,
    'http.response.body.size': bytes,
    'http.server.request.duration': Number(process.hrtime.bigint() - startedAt) / 1e9,
    'client.address': req.socket.remoteAddress,
    'client.port': req.socket.remotePort,
    'network.protocol.version': req.httpVersion,
  };
  if (route) attributes['http.route'] = route;
  if (url.search) attributes['url.query'] = url.search.slice(1);
  if (req.headers['user-agent']) attributes['user_agent.original'] = req.headers['user-agent'];
  if (userId) attributes['user.id'] = userId;
  const severityNumber = status >= 500 ? SeverityNumber.ERROR : status >= 400 ? SeverityNumber.WARN : SeverityNumber.INFO;
  accessLog.emit({
    severityNumber,
    severityText: severityNumber === SeverityNumber.ERROR ? 'ERROR' : severityNumber === SeverityNumber.WARN ? 'WARN' : 'INFO',
    body: `${req.method} ${url.pathname} ${status}`,
    attributes,
  });
}

function send(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
  return Buffer.byteLength(text);
}

async function readJson(req) {
  const chunks = [];
  let size = 0;
  for await (const c of req) {
    size += c.length;
    if (size > 16_384) throw new Error('body too large');
    chunks.push(c);
  }
  return JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
}

/** The demo's routes; returns [route template, user id, bytes sent]. */
async function handle(req, res) {
  const path = new URL(req.url ?? '/', 'http://placeholder').pathname;
  const user = typeof req.headers['x-user-id'] === 'string' ? req.headers['x-user-id'] : undefined;
  if (req.method === 'GET' && path === '/health') return ['/health', user, send(res, 200, { ok: true })];
  const order = /^\/orders\/(\d+)$/.exec(path);
  if (req.method === 'GET' && order) return ['/orders/{id}', user, send(res, 200, { id: Number(order[1]), status: 'shipped' })];
  if (req.method === 'POST' && path === '/login') {
    let creds;
    try {
      creds = await readJson(req);
    } catch {
      return ['/login', user, send(res, 400, { error: 'expected a JSON body {"user": ..., "password": ...}' })];
    }
    const ok = typeof creds.user === 'string' && creds.password === 'correct horse battery staple';
    return ['/login', typeof creds.user === 'string' ? creds.user : user, send(res, ok ? 200 : 401, ok ? { token: 'demo' } : { error: 'invalid credentials' })];
  }
  if (req.method === 'GET' && path === '/admin/export') {
    return user ? ['/admin/export', user, send(res, 200, { rows: 1000 })] : ['/admin/export', user, send(res, 403, { error: 'forbidden' })];
  }
  return [undefined, user, send(res, 404, { error: 'not found' })];
}

const server = createServer((req, res) => {
  const startedAt = process.hrtime.bigint();
  handle(req, res)
    .catch(() => [undefined, undefined, send(res, 500, { error: 'internal error' })])
    .then(([route, user, bytes]) => logRequest(req, res, route, user, bytes, startedAt));
});

server.listen(PORT, HOST, () => {
  const { address, port } = server.address();
  console.log(`${SERVICE} listening on http://${address}:${port}`);
});

let stopping = false;
async function stop(signal) {
  if (stopping) return;
  stopping = true;
  console.log(`${SERVICE}: ${signal}, flushing logs`);
  await new Promise((resolve) => server.close(resolve));
  try {
    await provider.shutdown(); // exports what is still batched
  } catch (err) {
    console.error(`${SERVICE}: could not flush logs: ${err.message}`);
    process.exitCode = 1;
  }
}
process.on('SIGTERM', () => void stop('SIGTERM'));
process.on('SIGINT', () => void stop('SIGINT'));
