// A bare-bones HTTP/2 client speaking raw frames over TCP, for tests of what a
// misbehaving peer gets from the gRPC server: one that never answers PINGs,
// that stays idle, or that opens more streams than the server allows.
// (Well-behaved clients such as grpc-js or node:http2 would not do these.)
import type { Socket } from 'node:net';

export const FRAME = { DATA: 0, HEADERS: 1, RST_STREAM: 3, SETTINGS: 4, PING: 6, GOAWAY: 7, WINDOW_UPDATE: 8 } as const;
const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');

export interface Frame {
  type: number;
  flags: number;
  stream: number;
  payload: Buffer;
}

export function frame(type: number, flags: number, stream: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const h = Buffer.alloc(9);
  h.writeUIntBE(payload.length, 0, 3);
  h[3] = type;
  h[4] = flags;
  h.writeUInt32BE(stream & 0x7fffffff, 5);
  return Buffer.concat([h, payload]);
}

/** HPACK literal header fields without indexing, no Huffman (names and values shorter than 127 bytes). */
export function hpack(headers: [string, string][]): Buffer {
  const parts: Buffer[] = [];
  for (const [name, value] of headers) {
    parts.push(Buffer.from([0x00, name.length]), Buffer.from(name), Buffer.from([value.length]), Buffer.from(value));
  }
  return Buffer.concat(parts);
}

/** Frames as they arrive; SETTINGS are acknowledged (a polite peer), PINGs deliberately are not unless `answerPings`. */
export class RawH2 {
  readonly frames: Frame[] = [];
  private buf = Buffer.alloc(0);
  closed = false;
  readonly done: Promise<void>;

  constructor(
    readonly socket: Socket,
    private readonly answerPings = false,
  ) {
    socket.on('error', () => undefined);
    socket.on('data', (d: Buffer) => this.onData(d));
    this.done = new Promise((resolve) => socket.once('close', () => ((this.closed = true), resolve())));
  }

  /** Sends the connection preface and an empty SETTINGS frame. */
  hello(): void {
    this.socket.write(Buffer.concat([PREFACE, frame(FRAME.SETTINGS, 0, 0)]));
  }

  send(b: Buffer): void {
    this.socket.write(b);
  }

  has(type: number, pred: (f: Frame) => boolean = () => true): boolean {
    return this.frames.some((f) => f.type === type && pred(f));
  }

  private onData(d: Buffer): void {
    this.buf = Buffer.concat([this.buf, d]);
    while (this.buf.length >= 9) {
      const len = this.buf.readUIntBE(0, 3);
      if (this.buf.length < 9 + len) break;
      const f: Frame = { type: this.buf[3], flags: this.buf[4], stream: this.buf.readUInt32BE(5) & 0x7fffffff, payload: this.buf.subarray(9, 9 + len) };
      this.buf = this.buf.subarray(9 + len);
      this.frames.push(f);
      if (f.type === FRAME.SETTINGS && (f.flags & 1) === 0) this.socket.write(frame(FRAME.SETTINGS, 1, 0));
      if (f.type === FRAME.PING && (f.flags & 1) === 0 && this.answerPings) this.socket.write(frame(FRAME.PING, 1, 0, f.payload));
    }
  }
}
