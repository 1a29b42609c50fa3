// What the commands that print records (query, export) share: large buffered
// writes to stdout or a file, honouring backpressure, and stopping quietly when
// the reader goes away (`| head`).
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';

export class BufferedOutput {
  private buf: (string | Uint8Array)[] = [];
  private size = 0;
  private closed = false;

  constructor(private readonly stream: Writable = process.stdout) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') this.closed = true;
    });
  }

  /** Writes to FILE (created or truncated), or stdout without one. */
  static to(file: string | undefined): BufferedOutput {
    return new BufferedOutput(file === undefined ? process.stdout : createWriteStream(file));
  }

  /** False once the output is closed (EPIPE): the caller stops producing. */
  async writeLine(line: string): Promise<boolean> {
    return this.write(line, '\n');
  }

  async write(...parts: (string | Uint8Array)[]): Promise<boolean> {
    if (this.closed) return false;
    for (const p of parts) {
      this.buf.push(p);
      this.size += p.length;
    }
    if (this.size >= 64 * 1024) await this.flush();
    return !this.closed;
  }

  private async flush(): Promise<void> {
    if (this.buf.length === 0 || this.closed) return;
    const parts = this.buf;
    this.buf = [];
    this.size = 0;
    const chunk = parts.every((p) => typeof p === 'string') ? parts.join('') : Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : p)));
    // events.once rejects on 'error' itself and removes its listeners either way: none is left behind per wait.
    if (!this.stream.write(chunk)) await once(this.stream, 'drain').catch(() => undefined);
  }

  /** Flushes; a file is closed (and its write errors surface here). */
  async end(): Promise<void> {
    await this.flush();
    if (this.stream === process.stdout) return;
    await new Promise<void>((resolve, reject) => {
      this.stream.once('error', reject);
      this.stream.end(() => resolve());
    });
  }
}
