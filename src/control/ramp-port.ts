// What control/ must know of the ramp's state machine to keep a route's ramp consistent with its
// split: whether a ramp is under way, how it ends when someone else moves the split (a person, a
// revert), how a breach pauses it, and how a change is named in the history. The transitions
// live in ramp/ (ramp/machine.ts implements this); the wiring hands them to control, so the
// owner of state does not import the ramp.
import type { RampState } from '../state/types.js';

export interface RampRules {
  /** Whether the ramp is under way (it may still move the split). */
  active(s: RampState | undefined): s is RampState;
  /** The ramp after someone set the route's split by hand. */
  superseded(s: RampState, now: number, percent: number, source: string): RampState;
  /** The ramp after a revert: it ends failed, with the evidence. */
  failed(s: RampState, now: number, reason: string, evidence: unknown): RampState;
  /** The ramp paused by a breach (null: it does not pause, e.g. paused already). */
  pausedByBreach(s: RampState, now: number, reason: string, evidence: unknown): RampState | null;
  /** The webhook/history event of a ramp change. */
  event(from: RampState | undefined, to: RampState, source: string): string;
  /** How history and logs show a ramp state. */
  label(s: RampState | undefined): string;
}

/**
 * For a process that only applies the control state it is sent (a cluster worker): it never moves
 * a split or a ramp itself, so it needs none of the transitions (and does not load ramp/).
 */
export const APPLY_ONLY: RampRules = {
  active: (_s): _s is RampState => false,
  superseded: (s) => s,
  failed: (s) => s,
  pausedByBreach: () => null,
  event: () => 'ramp',
  label: (s) => s?.status ?? 'none',
};
