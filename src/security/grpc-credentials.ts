// grpc-js server credentials backed by ServerTls: the server is created with
// the current certificate and client-certificate policy, and grpc-js swaps
// the secure context of its HTTP/2 server whenever ServerTls reloads (new
// connections get the new certificate; no restart, no dropped connections).
import * as grpc from '@grpc/grpc-js';
import type { ServerTls } from './tls.js';

export class ReloadingServerCredentials extends grpc.ServerCredentials {
  constructor(tls: ServerTls) {
    const { cert, key, ca, minVersion, maxVersion, ...policy } = tls.serverOptions();
    // Constructor options: fixed for the server's life. Context options: replaced on reload.
    super({ ...policy, minVersion, ...(maxVersion ? { maxVersion } : {}) }, { cert, key, ca, minVersion, maxVersion });
    tls.onReload((context) => this.updateSecureContextOptions(context));
  }

  override _equals(other: grpc.ServerCredentials): boolean {
    return other === this;
  }
}
