// A small HTTP service that logs with pino and ships the logs to Vigil over OTLP
// through pino-opentelemetry-transport (a pino transport: it runs in a worker
// thread, so logging never waits on the network).
//
//   OTEL_EXPORTER_OTLP_LOGS_ENDPOINT=http://127.0.0.1:4318/v1/logs node examples/pino/server.js
//   OTEL_EXPORTER_OTLP_LOGS_PROTOCOL=grpc OTEL_EXPORTER_OTLP_LOGS_ENDPOINT=http://127.0.0.1:4317 node examples/pino/server.js
//
// Every field of a pino log line except time, level, hostname, pid and msg becomes
// a log record attribute, so the access log is written with semantic-convention
// keys ('http.request.method', 'client.address'…): Vigil's audit processor reads
// them as they are. Routes as in ../node-sdk. SIGTERM/SIGINT: stop, flush, exit 0.
import { createServer } from 'node:http';
import pino from 'pino';

const SERVICE = process.env.OTEL_SERVICE_NAME ?? 'orders-api';
const PORT = Number(process.env.PORT ?? 8080);
const HOST = process.env.HOST ?? '127.0.0.1';

const transport = pino.transport({
  target: 'pino-opentelemetry-transport',
  options: {
    loggerName: 'orders-api.access',
    serviceVersion: '1.0.0',
    // Protocol and endpoint come from OTEL_EXPORTER_OTLP_LOGS_PROTOCOL / _ENDPOINT
    // (default http/protobuf), more resource attributes from OTEL_RESOURCE_ATTRIBUTES.
    resourceAttributes: { 'service.name': SERVICE },
  },
});
const log = pino({ level: process.env.LOG_LEVEL ?? 'info' }, transport);

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

/** One access-log line; pino drops the keys whose value is undefined. */
function logRequest(req, res, route, userId, bytes, startedAt) {
  const url = new URL(req.url ?? '/', 'http://placeholder');
  const status = res.statusCode;
  const fields = {
    'http.request.method': req.method,
    'url.path': url.pathname,
    'url.query': url.search ? url.search.slice(1) : undefined,
    'http.route': route,
    'http.response.status_code': status,
    'http.response.body.size': bytes,
    'http.server.request.duration': Number(process.hrtime.bigint() - startedAt) / 1e9,
    'client.address': req.socket.remoteAddress,
    'client.port': req.socket.remotePort,
    'user_agent.original': req.headers['user-agent'],
    'user.id': userId,
  };
  const level = status >= 500 ? 'error' : status >= 400 ? 'warn' : 'info';
  log[level](fields, `${req.method} ${url.pathname} ${status}`);
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
function stop(signal) {
  if (stopping) return;
  stopping = true;
  console.log(`${SERVICE}: ${signal}, flushing logs`);
  server.close(() => {
    // Ending the transport closes its worker, whose close hook shuts the OTel logger
    // provider down: batched records are exported before the worker exits.
    transport.once('close', () => process.exit(process.exitCode ?? 0));
    transport.end();
  });
}
process.on('SIGTERM', () => stop('SIGTERM'));
process.on('SIGINT', () => stop('SIGINT'));
