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

/**
 * A change away from legacy (raising the split, maintenance off, a re-arm) that could not be
 * saved: it is undone, because a restart would silently undo it anyway.
 */
export class StoreUnavailableError extends CutoverError {
  constructor(reason: string) {
    super('store_unavailable', 503, `${reason}; nothing changed: a change away from legacy is only made when it can be saved. Fix the state file's directory (state.file) and try again`);
    this.name = 'StoreUnavailableError';
  }
}
