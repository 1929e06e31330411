// Errors carry a stable code, an HTTP status and a message a person can act on.

export class CutoverError extends Error {
  readonly code: string;
  readonly status: number;
  constructor(code: string, status: number, message: string) {
    super(message);
    this.name = 'CutoverError';
    this.code = code;
    this.status = status;
  }
}

/** A config file that does not satisfy the schema; `issues` lists every problem. */
export class ConfigError extends CutoverError {
  readonly issues: string[];
  constructor(file: string, issues: string[]) {
    super('CONFIG_INVALID', 400, `${file}: ${issues.length} problem${issues.length === 1 ? '' : 's'}\n  ${issues.join('\n  ')}`);
    this.name = 'ConfigError';
    this.issues = issues;
  }
}

/** Exit code for a configuration or usage error. */
export const EXIT_CONFIG = 2;
