// The control state in memory (the split, latch and ramp of every route, maintenance) and its
// persisted form both ways. Plain holding and copying: what may change it, and how, is control.ts.
import { newInterleave } from '../split/decide.js';
import { roundPercent } from '../split/percent.js';
import type { RouteSplit } from '../split/route.js';
import { STATE_VERSION, type Change, type GuardLatch, type Maintenance, type PersistedState, type RampState } from '../state/types.js';

export class Held {
  readonly splits = new Map<string, RouteSplit>();
  readonly latches = new Map<string, GuardLatch>();
  readonly ramps = new Map<string, RampState>();
  maintenance: Maintenance = { enabled: false, retryAfterSeconds: 30, message: 'The service is down for maintenance; try again shortly.' };

  /** The split object of a route, created with `initialPercent` the first time it is asked for. */
  split(route: string, initialPercent = 0): RouteSplit {
    let s = this.splits.get(route);
    if (!s) {
      s = { percent: roundPercent(initialPercent), interleave: newInterleave() };
      this.splits.set(route, s);
    }
    return s;
  }

  /**
   * Take splits, maintenance, latches and ramps from a persisted state; routes this process does
   * not know are left out. `replace`: latches and ramps not in `s` are gone (another replica's
   * state is the whole truth); otherwise (a state file at start-up) they are added.
   */
  load(s: PersistedState, replace: boolean): void {
    for (const [route, r] of Object.entries(s.routes)) {
      const split = this.splits.get(route);
      if (split) split.percent = roundPercent(r.candidatePercent);
    }
    this.maintenance = { ...this.maintenance, ...s.maintenance };
    if (replace) {
      this.latches.clear();
      this.ramps.clear();
    }
    for (const [route, latch] of Object.entries(s.guard ?? {})) if (!replace || this.splits.has(route)) this.latches.set(route, latch);
    for (const [route, ramp] of Object.entries(s.ramp ?? {})) if (this.splits.has(route)) this.ramps.set(route, ramp);
  }

  persisted(history: readonly Change[], now: number): PersistedState {
    return {
      version: STATE_VERSION,
      savedAt: new Date(now).toISOString(),
      routes: Object.fromEntries([...this.splits].map(([k, v]) => [k, { candidatePercent: v.percent }])),
      maintenance: this.maintenance,
      guard: Object.fromEntries(this.latches),
      ramp: Object.fromEntries(this.ramps),
      history: history.slice(0, 200),
    };
  }

  /** Forget routes that no longer exist (after a reload). */
  retain(names: ReadonlySet<string>): void {
    for (const map of [this.splits, this.latches, this.ramps]) for (const name of [...map.keys()]) if (!names.has(name)) map.delete(name);
  }
}
