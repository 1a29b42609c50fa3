// Where `vigil replay` writes its OTLP JSON lines: a file (--output, or stdout
// redirected to one) by synchronous writes, or a stream (stdout) with
// backpressure. Replay has nothing else to do while a write runs, and a
// synchronous write is the kernel's copy alone:
// 100 MB in 256 KiB writes cost ~25 ms of CPU written in place against
// 60–200 ms through fs.WriteStream (a thread-pool round trip per write),
// measured on the development machine.
import { closeSync, fstatSync, openSync, writeSync } from 'node:fs';
import type { Writable } from 'node:stream';

export interface ReplaySink {
  /**
   * Takes the bytes before it returns (written, or copied for later: the caller
   * reuses their memory at once); the promise, if any, resolves when more may
   * be written. Throws (or rejects) with the output's error.
   */
  write(bytes: Uint8Array): void | Promise<void>;
  /** Closes a file (stdout stays open); throws the output's error if one happened. */
  close(): void | Promise<void>;
}

/** A file, created or truncated now (so that an unwritable path fails before any work). */
export function fileSink(path: string): ReplaySink {
  return descriptorSink(openSync(path, 'w'), true);
}

/**
 * The descriptor of `out` when it is a regular file (`vigil replay … >
 * enriched.jsonl`), to be written in place like --output: through the stream
 * each batch's line was copied first (a stream may keep the chunk), ~10 % more
 * CPU for 30,000 lines. Pipes and terminals keep the stream and its backpressure.
 */
export function regularFileDescriptor(out: Writable): number | undefined {
  const fd = (out as { fd?: unknown }).fd;
  if (typeof fd !== 'number') return undefined;
  try {
    return fstatSync(fd).isFile() ? fd : undefined;
  } catch {
    return undefined;
  }
}

/** Synchronous writes to an open descriptor; closed at the end only when `owned` (stdout is not). */
export function descriptorSink(fd: number, owned: boolean): ReplaySink {
  let open = true;
  return {
    write(bytes) {
      for (let at = 0; at < bytes.length; ) at += writeSync(fd, bytes, at);
    },
    close() {
      if (!open) return;
      open = false;
      if (owned) closeSync(fd);
    },
  };
}

/** A stream (stdout), waiting for 'drain' when its buffer is full. */
export function streamSink(out: Writable): ReplaySink {
  let failed: Error | undefined;
  out.on('error', (err) => (failed ??= err));
  const check = () => {
    if (failed) throw failed;
  };
  return {
    write(bytes) {
      check();
      // A copy: the stream may hold the chunk after write() returns.
      if (out.write(Buffer.from(bytes))) return;
      return settled(out, 'drain').then(check);
    },
    close: check,
  };
}

/** Resolves on `event` or on an error (recorded by the sink's error listener), removing both listeners. */
function settled(stream: Writable, event: 'drain'): Promise<void> {
  return new Promise((resolveFn) => {
    const done = () => {
      stream.off(event, done);
      stream.off('error', done);
      resolveFn();
    };
    stream.on(event, done);
    stream.on('error', done);
  });
}
