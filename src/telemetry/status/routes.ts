// The status page's routes on the telemetry server: `/` (the page, with its
// /status.css and /status.js), `/status.json` (a snapshot; `?all=1` lists
// every flagged key kept) and `/status/events` (server-sent events: a snapshot
// every second). Strict headers: the page loads only its own script and style.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TelemetryServer } from '../server.js';
import { STATUS_CSS, STATUS_HTML, STATUS_JS } from './assets.js';
import type { StatusState } from './state.js';

/** Live streams at once: the telemetry server itself allows only a few dozen connections. */
export const MAX_EVENT_STREAMS = 16;

const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cache-control': 'no-store',
};

function asset(type: string, body: string) {
  const bytes = Buffer.from(body);
  return (req: IncomingMessage, res: ServerResponse) => {
    res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': type, 'content-length': bytes.length });
    res.end(req.method === 'HEAD' ? undefined : bytes);
  };
}

export function mountStatusPage(server: TelemetryServer, state: StatusState): void {
  let streams = 0;
  server.mount('/', asset('text/html; charset=utf-8', STATUS_HTML));
  server.mount('/status.css', asset('text/css; charset=utf-8', STATUS_CSS));
  server.mount('/status.js', asset('text/javascript; charset=utf-8', STATUS_JS));
  server.mount('/status.json', async (req, res) => {
    const all = new URL(req.url ?? '/', 'http://x').searchParams.get('all') === '1';
    const body = JSON.stringify(await state.snapshot({ allFlagged: all }));
    res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': 'application/json; charset=utf-8' });
    res.end(req.method === 'HEAD' ? undefined : body);
  });
  server.mount('/status/events', async (req, res) => {
    if (streams >= MAX_EVENT_STREAMS) {
      res.writeHead(503, { 'content-type': 'text/plain', 'retry-after': '10' }).end('too many live status streams: close another status page\n');
      return;
    }
    res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': 'text/event-stream; charset=utf-8', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    streams++;
    let sending = false;
    const push = async () => {
      if (sending || res.writableEnded) return; // a slow reader skips a beat instead of piling up snapshots
      sending = true;
      try {
        res.write(`event: status\ndata: ${JSON.stringify(await state.snapshot())}\n\n`);
      } finally {
        sending = false;
      }
    };
    res.write('retry: 2000\n\n');
    const unsubscribe = state.subscribe(() => void push().catch(() => undefined));
    res.on('close', () => {
      streams--;
      unsubscribe();
    });
    await push();
  });
}
