// Config problems are reported all at once, each naming the key path and the fix;
// `vigil run` exits with code 2 on any of them.
export interface ConfigIssue {
  /** Dotted key path, e.g. `exporters.otlp_grpc.endpoint`. */
  path: string;
  message: string;
}

export class ConfigError extends Error {
  readonly issues: ConfigIssue[];
  constructor(issues: ConfigIssue[]) {
    super(
      `invalid configuration:\n${issues.map((i) => `  - ${i.path || '(top level)'}: ${i.message}`).join('\n')}`,
    );
    this.name = 'ConfigError';
    this.issues = issues;
  }
}

export function joinPath(...parts: (string | number)[]): string {
  return parts.filter((p) => p !== '').join('.');
}
