// Where replay's lines go: stdout is written in place only when it is a regular
// file; a pipe or an in-memory stream keeps the stream (and its backpressure).
import { execFileSync } from 'node:child_process';
import { closeSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { descriptorSink, regularFileDescriptor } from '../../src/cli/replay-sink.js';
import { tempDir } from '../helpers/tmp.js';

const dir = tempDir('vigil-replay-sink-');

describe('replay sinks', () => {
  it('finds the descriptor of a stream on a regular file, none for a stream without one, a closed one or a pipe', () => {
    const path = join(dir, 'out.jsonl');
    writeFileSync(path, '');
    const fd = openSync(path, 'a');
    try {
      expect(regularFileDescriptor(Object.assign(new PassThrough(), { fd }))).toBe(fd);
    } finally {
      closeSync(fd);
    }
    expect(regularFileDescriptor(new PassThrough())).toBeUndefined();
    expect(regularFileDescriptor(Object.assign(new PassThrough(), { fd: 987_654 }))).toBeUndefined();
    // A named pipe (opened read-write, so that opening does not wait for a reader).
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    const pipeFd = openSync(fifo, 'r+');
    try {
      expect(regularFileDescriptor(Object.assign(new PassThrough(), { fd: pipeFd }))).toBeUndefined();
    } finally {
      closeSync(pipeFd);
    }
  });

  it('writes every byte at the descriptor position and leaves a descriptor it does not own open', () => {
    const path = join(dir, 'borrowed.jsonl');
    writeFileSync(path, 'head\n');
    const fd = openSync(path, 'a');
    try {
      const sink = descriptorSink(fd, false);
      sink.write(Buffer.from('one\n'));
      sink.write(new Uint8Array(Buffer.from('two\n')));
      sink.close();
      // Still open: the caller's to close.
      sink.write(Buffer.from('three\n'));
    } finally {
      closeSync(fd);
    }
    expect(readFileSync(path, 'utf8')).toBe('head\none\ntwo\nthree\n');
  });
});
