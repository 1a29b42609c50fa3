// Vigil's own logs, on stderr so stdout stays free for command output (replay,
// query) and the debug exporter. Two encodings, as the Collector's
// service.telemetry.logs.encoding: `json` (one object a line, for machines) and
// `console` (tab-separated columns for a person at a terminal).
import { writeSync } from 'node:fs';
import { pino } from 'pino';

export type Logger = pino.Logger;

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

export type LogEncoding = 'json' | 'console';

/** The encoding when the config names none: console for a person at a terminal, json when piped or collected. */
export function defaultEncoding(stderrIsTTY = process.stderr.isTTY === true): LogEncoding {
  return stderrIsTTY ? 'console' : 'json';
}

export function createLogger(level: LogLevel = 'info', encoding: LogEncoding = defaultEncoding()): Logger {
  const options: pino.LoggerOptions = {
    level,
    base: { service: 'vigil' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  };
  // Synchronous writes both ways: a line logged just before exit is never lost.
  if (encoding === 'json') return pino(options, pino.destination({ dest: 2, sync: true }));
  return pino(options, { write: (line: string) => void writeSync(2, consoleLine(line)) });
}

/**
 * One JSON log line as the console shows it: time, level, component, message,
 * then the remaining fields as JSON (as the Collector's console encoder does).
 */
export function consoleLine(jsonLine: string): string {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(jsonLine) as Record<string, unknown>;
  } catch {
    return jsonLine.endsWith('\n') ? jsonLine : `${jsonLine}\n`;
  }
  const { time, level, component, msg, service: _service, ...rest } = o;
  const cols = [String(time ?? ''), String(level ?? ''), String(component ?? 'vigil'), String(msg ?? '')];
  if (Object.keys(rest).length > 0) cols.push(JSON.stringify(rest));
  return `${cols.join('\t')}\n`;
}

/** A logger that drops everything: for library use and tests that do not inspect logs. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
