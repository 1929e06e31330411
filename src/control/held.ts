// The control state in memory (the split, latch and ramp of every route, maintenance) and its
// persisted form both ways. Plain holding and copying: what may change it, and how, is control.ts.
import { newInterleave } from '../split/decide.js';
import { roundPercent } from '../split/percent.js';
import type { RouteSplit, ShadowShare } from '../split/route.js';
import { STATE_VERSION, type Change, type GuardLatch, type Maintenance, type PersistedState, type RampState } from '../state/types.js';

export class Held {
  readonly splits = new Map<string, RouteSplit>();
  readonly latches = new Map<string, GuardLatch>();
  readonly ramps = new Map<string, RampState>();
  /** The shadow's share per route (routes with a shadow); read by the tap on every request. */
  readonly shadows = new Map<string, ShadowShare>();
  /** Routes whose share was set at run time: persisted, and a reload's config does not move it. */
  readonly shadowsSet = new Set<string>();
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

  /** The shadow share of a route: the config's percent unless one was set at run time. */
  shadow(route: string, configPercent: number): ShadowShare {
    let s = this.shadows.get(route);
    if (!s) this.shadows.set(route, (s = { percent: roundPercent(configPercent) }));
    else if (!this.shadowsSet.has(route)) s.percent = roundPercent(configPercent);
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
      if (r.shadowPercent === undefined || !split) continue;
      this.shadowsSet.add(route);
      const share = this.shadows.get(route);
      if (share) share.percent = roundPercent(r.shadowPercent);
      else this.shadows.set(route, { percent: roundPercent(r.shadowPercent) });
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
      routes: Object.fromEntries([...this.splits].map(([k, v]) => [k, this.shadowsSet.has(k) ? { candidatePercent: v.percent, shadowPercent: this.shadows.get(k)!.percent } : { candidatePercent: v.percent }])),
      maintenance: this.maintenance,
      guard: Object.fromEntries(this.latches),
      ramp: Object.fromEntries(this.ramps),
      history: history.slice(0, 200),
    };
  }

  /** Forget routes that no longer exist (after a reload). */
  retain(names: ReadonlySet<string>): void {
    for (const map of [this.splits, this.latches, this.ramps, this.shadows]) for (const name of [...map.keys()]) if (!names.has(name)) map.delete(name);
    for (const name of [...this.shadowsSet]) if (!names.has(name)) this.shadowsSet.delete(name);
  }
}
