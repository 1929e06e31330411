// What control/ hands back and takes: the result of a change, the persistence status, who made a
// change, and the guard's actions (the plan a policy returns, applied in one call). The records
// themselves (Change, Maintenance, GuardLatch, RampState) are in state/types.ts.
import type { Change, GuardLatch, RampState, Source } from '../state/types.js';
import type { Saved } from './durability.js';

export type { Change, ChangeKind, GuardLatch, Maintenance, PersistedState, RampState, Source } from '../state/types.js';
export type { Saved };

/** What a change did, and a promise settled once it is on disk (or refused: StoreUnavailableError). */
export interface Applied {
  changes: Change[];
  saved: Promise<Saved>;
}

export interface Persistence {
  /** The state file's path (null without one, and in fleet mode). */
  file: string | null;
  /** Where the state is kept, in words ("the state file ...", "Redis ..."); null: memory only. */
  store: string | null;
  /** False when a change is in memory only, after a write failed, until the next one succeeds. */
  persisted: boolean;
  lastError: string | null;
  /** A change is not on disk yet (a write is due, in flight or waiting for a retry). */
  pending: boolean;
  writes: number;
  failures: number;
}

export interface By {
  source: Source;
  reason?: string;
}

/**
 * What the guard (or a ramp's hold) decided, whole: the routes to revert with their latches, the
 * ramps to pause instead (onBreach: pause), and the observations for the history. Built by the
 * pure policies (guard/plan.ts, ramp/policy.ts); control applies it in one call.
 */
export interface GuardActions {
  reverts: Array<{ route: string; latch: GuardLatch; reason: string }>;
  pauses: Array<{ route: string; reason: string; evidence: unknown }>;
  notes: Array<Omit<Change, 'time'>>;
}

/** A change of a route's ramp and of the split that goes with it (percent undefined: the split stays). */
export interface Transition {
  state: RampState;
  percent: number | undefined;
}
