// The control state as it is kept and persisted: the records every layer shares (the history's
// Change, maintenance, the guard's latch, a route's ramp record, the state file's shape). Plain
// data, no behaviour: control/ owns and changes them, ramp/ defines how a ramp moves, the stores
// write them. Living here, below all three, no store imports its owner and control/ does not
// import the ramp's state machine.

export const STATE_VERSION = 1;

export type Source = 'api' | 'cli' | 'dashboard' | 'config' | 'guard' | 'startup' | 'reload' | 'ramp';
export type ChangeKind = 'split' | 'maintenance' | 'guard' | 'config' | 'ramp' | 'shadow';

export interface Change {
  /** Unique across replicas: `<replica>:<sequence>`. */
  id?: string;
  /** The replica (or process) that made the change. */
  replica?: string;
  time: string;
  source: Source;
  kind: ChangeKind;
  route?: string;
  from: unknown;
  to: unknown;
  reason?: string;
  /** Ramp changes: ramp-started, ramp-step, ramp-promoted, ramp-paused, ramp-resumed, ramp-ended. */
  event?: string;
}

export interface Maintenance {
  enabled: boolean;
  retryAfterSeconds: number;
  message: string;
}

/** The guard's latch on a route after a revert; it stays until an operator re-arms. */
export interface GuardLatch {
  state: 'reverted';
  since: string;
  rule: string;
  reason: string;
  evidence: unknown;
  dryRun?: boolean;
}

export type RampStatus = 'running' | 'paused' | 'done' | 'failed' | 'aborted';
export const RAMP_STATUSES: readonly RampStatus[] = ['running', 'paused', 'done', 'failed', 'aborted'];

/**
 * A route's ramp as control/ keeps and persists it (how it moves is ramp/policy.ts). Times are
 * wall-clock ISO strings, so a restart keeps the hold's deadline.
 */
export interface RampState {
  status: RampStatus;
  /** The steps when the ramp started (a reload that changes them does not move a ramp under way). */
  steps: number[];
  /** Index of the current step in `steps`. */
  step: number;
  startedAt: string;
  stepStartedAt: string;
  /** When the hold of the current step is over (while paused: when it would have been at the pause). */
  holdUntil: string;
  /** While paused: how much of the hold was left at the pause; resume restarts the clock with it. */
  holdLeftMs?: number;
  endedAt?: string;
  /** Why it paused or ended. */
  reason?: string;
  /** The evidence of a breach that paused or ended it. */
  evidence?: unknown;
}

/** One route's persisted control state. */
export interface RouteState {
  candidatePercent: number;
  shadowPercent?: number;
}

export interface PersistedState {
  version: number;
  savedAt: string;
  /** shadowPercent: the shadow's share once set at run time (PUT /api/v1/shadow); absent, the config's applies. */
  routes: Record<string, RouteState>;
  maintenance: Maintenance;
  guard: Record<string, GuardLatch>;
  history: Change[];
  /** Ramps per route (optional: files written before ramps existed have none). */
  ramp?: Record<string, RampState>;
}
