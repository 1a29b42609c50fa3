// Config of the `health_check` extension, apart from the server: validating a
// config needs the schema only, and the server pulls in node:http, whose
// import alone cost `vigil replay` (which never starts extensions) ~70 ms.
import { z } from 'zod';
import { hostPort } from '../../config/units.js';
import { serverAuthSchema } from '../../security/auth.js';
import { tlsServerSchema } from '../../security/tls.js';

export const healthCheckConfigSchema = z
  .object({
    endpoint: hostPort().default('127.0.0.1:13133'),
    path: z.string().startsWith('/', 'path must start with /').default('/'),
    /** TLS for the endpoint (probes then use scheme: HTTPS). */
    tls: tlsServerSchema.optional(),
    /** `authenticator: <extension id>`: only callers with a token get an answer (probes usually cannot send one). */
    auth: serverAuthSchema.optional(),
  })
  .strict();
export type HealthCheckConfig = z.infer<typeof healthCheckConfigSchema>;
