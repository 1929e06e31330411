// Errors carry a stable code, an HTTP status and a message a person can act on. One table holds
// every code cutover answers with (the admin API, the data plane's own answers, the CLI), so that
// a code always means one thing and has one status; the README's admin API section lists them.

/** code → HTTP status, and the message when the code has a fixed one. */
export const ERRORS = {
  // the admin API
  invalid_json: { status: 400 },
  invalid_percent: { status: 400 },
  config_invalid: { status: 400 },
  bad_request: { status: 400 },
  unauthorized: { status: 401, message: 'send the admin token as "Authorization: Bearer <token>" (CUTOVER_ADMIN_TOKEN)' },
  read_only: { status: 403, message: 'this token is the read-only one: it may read, not change anything; use the admin token (CUTOVER_ADMIN_TOKEN) to change traffic' },
  forbidden_origin: { status: 403 },
  not_found: { status: 404 },
  unknown_route: { status: 404 },
  guard_latched: { status: 409 },
  ramp_not_configured: { status: 409 },
  ramp_not_running: { status: 409 },
  no_shadow: { status: 409 },
  no_config_file: { status: 409 },
  shutting_down: { status: 409 },
  restart_in_progress: { status: 409 },
  restart_failed: { status: 500 },
  dashboard_missing: { status: 500 },
  internal_error: { status: 500 },
  store_unavailable: { status: 503 },
  // start-up and the CLI (the status says what an HTTP caller would get; the CLI exits 2)
  token_file: { status: 400 },
  admin_unprotected: { status: 400 },
  read_only_token: { status: 400 },
  redis_unreachable: { status: 400 },
  state_too_new: { status: 409 },
  workers_failed: { status: 500 },
  admin_disabled: { status: 400 },
  admin_port_unknown: { status: 400 },
  dashboard_disabled: { status: 400 },
  admin_unreachable: { status: 503 },
  // the data plane's own answers (never counted against a backend) and its answers for a backend
  maintenance: { status: 503 },
  bad_request_target: { status: 400 },
  bad_request_body: { status: 400 },
  bad_path: { status: 400 },
  bad_host: { status: 400 },
  bad_override: { status: 400 },
  override_refused: { status: 403 },
  no_route: { status: 404 },
  method_not_allowed: { status: 405 },
  too_many_headers: { status: 431 },
  upstream_refused: { status: 502 },
  upstream_reset: { status: 502 },
  upstream_error: { status: 502 },
  upstream_timeout: { status: 504 },
} as const satisfies Record<string, { status: number; message?: string }>;

export type ErrorCode = keyof typeof ERRORS;

/** The status of a code. */
export const statusOf = (code: ErrorCode): number => ERRORS[code].status;

/** `{"error":{"code","message",...detail}}`: the body of every error cutover answers with. */
export function errorBody(code: ErrorCode, message?: string, detail: Record<string, unknown> = {}): { error: Record<string, unknown> } {
  const fixed = (ERRORS[code] as { message?: string }).message;
  return { error: { code, message: message ?? fixed ?? code, ...detail } };
}

export class CutoverError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  /** `status` only for an error relayed from another cutover (the CLI passing on the admin API's answer). */
  constructor(code: ErrorCode, message: string, status?: number) {
    super(message);
    this.name = 'CutoverError';
    this.code = code;
    this.status = status ?? ERRORS[code]?.status ?? 500;
  }
}

/** A config file that does not satisfy the schema; `issues` lists every problem. */
export class ConfigError extends CutoverError {
  readonly issues: string[];
  constructor(file: string, issues: string[]) {
    super('config_invalid', `${file}: ${issues.length} problem${issues.length === 1 ? '' : 's'}\n  ${issues.join('\n  ')}`);
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
    super('store_unavailable', `${reason}; nothing changed: a change away from legacy is only made when it can be saved. Fix the state file's directory (state.file) and try again`);
    this.name = 'StoreUnavailableError';
  }
}
