// A progress bar on stderr for long-running commands, only when stderr is a
// terminal (never in pipes, files or CI logs), redrawn at most 10 times a
// second: `[#####.....] 42% 118.0/280.4 MB  1,234,567 records  312,000/s  ETA 0:41`.

export interface ProgressBar {
  update(bytesDone: number, records: number): void;
  /** Clears the bar (the summary is printed by the caller). */
  done(): void;
}

export interface ProgressOptions {
  label: string;
  /** Total bytes, when known (files); undefined for streams. */
  totalBytes: number | undefined;
  stream?: NodeJS.WriteStream;
  now?: () => number;
}

const WIDTH = 24;

export function progressBar(opts: ProgressOptions): ProgressBar {
  const stream = opts.stream ?? process.stderr;
  if (stream.isTTY !== true) return { update() {}, done() {} };
  const now = opts.now ?? (() => performance.now());
  const started = now();
  let last = -Infinity;
  let drawn = false;
  return {
    update(bytes, records) {
      const t = now();
      if (t - last < 100) return;
      last = t;
      stream.write(`\r${renderProgress(opts.label, bytes, opts.totalBytes, records, (t - started) / 1000)}\x1b[K`);
      drawn = true;
    },
    done() {
      if (drawn) stream.write('\r\x1b[K');
    },
  };
}

/** One line of progress (pure, for tests). */
export function renderProgress(label: string, bytes: number, total: number | undefined, records: number, seconds: number): string {
  const rate = seconds > 0 ? ` ${fmt(records / seconds)}/s` : '';
  const mb = (n: number) => (n / 1e6).toFixed(1);
  if (total === undefined || total <= 0) return `${label} ${mb(bytes)} MB  ${fmt(records)} records${rate}`;
  const frac = Math.min(1, bytes / total);
  const filled = Math.round(frac * WIDTH);
  const eta = frac > 0 && frac < 1 && seconds > 0 ? `  ETA ${clock((seconds / frac) * (1 - frac))}` : '';
  return `${label} [${'#'.repeat(filled)}${'.'.repeat(WIDTH - filled)}] ${Math.floor(frac * 100)}% ${mb(bytes)}/${mb(total)} MB  ${fmt(records)} records${rate}${eta}`;
}

function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

function clock(seconds: number): string {
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

export interface CountProgress {
  update(done: number): void;
  done(): void;
}

/**
 * Progress of a job with a known count (records to send): a bar redrawn on one
 * line on a terminal; when piped, a plain line at each quarter, so logs show
 * that it moves without filling up.
 */
export function countProgress(opts: { label: string; total: number; unit: string; stream?: NodeJS.WriteStream; now?: () => number }): CountProgress {
  const stream = opts.stream ?? process.stderr;
  const now = opts.now ?? (() => performance.now());
  const started = now();
  const tty = stream.isTTY === true;
  let last = -Infinity;
  let quarter = 0;
  let drawn = false;
  return {
    update(done) {
      const t = now();
      if (tty) {
        if (t - last < 100 && done < opts.total) return;
        last = t;
        stream.write(`\r${renderCount(opts.label, done, opts.total, opts.unit, (t - started) / 1000)}\x1b[K`);
        drawn = true;
      } else {
        const q = opts.total > 0 ? Math.floor((done / opts.total) * 4) : 4;
        if (q > quarter && q < 4) {
          quarter = q;
          stream.write(`${renderCount(opts.label, done, opts.total, opts.unit, (t - started) / 1000)}\n`);
        }
      }
    },
    done() {
      if (drawn) stream.write('\r\x1b[K');
    },
  };
}

/** `sending [##########..............] 42% 12,345/29,400 records  8,120/s` (pure, for tests). */
export function renderCount(label: string, done: number, total: number, unit: string, seconds: number): string {
  const frac = total > 0 ? Math.min(1, done / total) : 1;
  const filled = Math.round(frac * WIDTH);
  const rate = seconds > 0 ? `  ${fmt(done / seconds)}/s` : '';
  return `${label} [${'#'.repeat(filled)}${'.'.repeat(WIDTH - filled)}] ${Math.floor(frac * 100)}% ${fmt(done)}/${fmt(total)} ${unit}${rate}`;
}

/** A whole number with thousands separators: 1,234,567. */
export function fmtInt(n: number): string {
  return n.toLocaleString('en-US');
}
