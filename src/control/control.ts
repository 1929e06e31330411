// The one owner of mutable control state: the split of every route, maintenance, the guard's
// latch and the history of changes. Every change goes through here: validated, persisted,
// logged, recorded in history and announced to listeners (metrics, webhooks). The proxy holds
// references to the RouteSplit objects and reads them on every request, without locks.
// A change applies in memory at once; `saved` says when it is on disk, and durability.ts what
// happens when it cannot be (a change away from legacy is undone and refused).
import { CutoverError } from '../errors.js';
import { roundPercent } from '../split/percent.js';
import type { Change, GuardLatch, Maintenance, RampState } from '../state/types.js';
import { describe } from './describe.js';
import type { Saved, Undo } from './durability.js';
import { ControlKeeper } from './keeper.js';
import { checkPersisted } from './persisted.js';
import type { Applied, By, GuardActions, Transition } from './types.js';

export type { Applied, By, Change, ChangeKind, GuardActions, Maintenance, Persistence, Saved, Source, Transition } from './types.js';

export class Control extends ControlKeeper {
  /** Set the candidate percentage of one route, or of every route when `route` is undefined (rounded to 0.0001 %). */
  setSplit(requested: number, by: By & { route?: string }): Applied {
    if (typeof requested !== 'number' || !Number.isFinite(requested) || requested < 0 || requested > 100) {
      throw new CutoverError('invalid_percent', `candidatePercent must be a number from 0 to 100, got ${JSON.stringify(requested)}`);
    }
    const percent = roundPercent(requested);
    this.known(by.route);
    const routes = by.route === undefined ? this.routes() : [by.route];
    const latched = percent > 0 ? routes.filter((r) => this.latches.has(r)) : [];
    if (latched.length > 0) {
      throw new CutoverError(
        'guard_latched',
        `the guard reverted ${latched.join(', ')} and is latched; re-arm it first (POST /api/v1/guard/rearm or cutover guard rearm), then set the split`,
      );
    }
    const out: Change[] = [];
    const undo: Undo[] = [];
    let away = false;
    for (const route of routes) {
      const split = this.splits.get(route)!;
      // A split set by hand takes the route out of the ramp's hands (a rollback must not be
      // undone by the ramp's next step).
      const ramp = this.ramps.get(route);
      if (this.rampRules.active(ramp) && split.percent !== percent) {
        const put = this.putRamp(route, this.rampRules.superseded(ramp, this.clock(), percent, by.source), by.source);
        out.push(put.change);
        undo.push(put.undo);
      }
      if (split.percent === percent) continue;
      away ||= percent > split.percent;
      const moved = this.moveSplit(route, percent, by.source, by.reason);
      out.push(moved.change);
      undo.push(moved.undo);
    }
    // One request is all or nothing: a refused raise also undoes the routes it lowered.
    return { changes: out, saved: this.track({ changed: out.length > 0, away, undo }) };
  }

  setMaintenance(m: Partial<Maintenance> & { enabled: boolean }, by: By): { change: Change | undefined; saved: Promise<Saved> } {
    const next: Maintenance = {
      enabled: m.enabled,
      retryAfterSeconds: m.retryAfterSeconds ?? this.maintenance.retryAfterSeconds,
      message: m.message ?? this.maintenance.message,
    };
    const from = this.maintenance;
    if (from.enabled === next.enabled && from.retryAfterSeconds === next.retryAfterSeconds && from.message === next.message) {
      return { change: undefined, saved: this.track({ changed: false, away: false, undo: [] }) };
    }
    this.maintenance = next;
    const change = this.record({ source: by.source, kind: 'maintenance', from: from.enabled, to: next.enabled, reason: by.reason });
    const undo: Undo = (why) => {
      if (this.maintenance !== next) return;
      this.maintenance = from;
      this.record({ source: by.source, kind: 'maintenance', from: next.enabled, to: from.enabled, reason: `undone: ${why}` });
    };
    // Turning maintenance off sends traffic again: away from the safe side. A new message or
    // Retry-After while it stays on is harmless, and applies like a move toward legacy.
    return { change, saved: this.track({ changed: true, away: from.enabled && !next.enabled, undo: [undo] }) };
  }

  /**
   * Set the share of a route's requests its shadow copies (PUT /api/v1/shadow), rounded to
   * 0.0001 %. It changes what the other cluster sees, never what a client gets: it applies at
   * once and is saved when the store can, like a move toward legacy. Persisted, so a restart or
   * a reload keeps it over the config's shadow.percent.
   */
  setShadow(requested: number, by: By & { route: string }): Applied {
    if (typeof requested !== 'number' || !Number.isFinite(requested) || requested < 0 || requested > 100) {
      throw new CutoverError('invalid_percent', `percent must be a number from 0 to 100, got ${JSON.stringify(requested)}`);
    }
    const percent = roundPercent(requested);
    this.known(by.route);
    const from = this.held.shadows.get(by.route)?.percent ?? 0;
    const wasSet = this.held.shadowsSet.has(by.route);
    this.held.shadow(by.route, percent).percent = percent;
    this.held.shadowsSet.add(by.route);
    if (from === percent && wasSet) return { changes: [], saved: this.track({ changed: false, away: false, undo: [] }) };
    const change = this.record({ source: by.source, kind: 'shadow', route: by.route, from, to: percent, reason: by.reason });
    return { changes: [change], saved: this.track({ changed: true, away: false, undo: [] }) };
  }

  latch(route: string): GuardLatch | undefined {
    return this.latches.get(route);
  }

  /** Latch the guard on routes and send them to 0 % in one step (the revert). */
  revert(routes: readonly string[], latch: GuardLatch, reason: string): Applied {
    return this.applyGuard({ reverts: routes.map((route) => ({ route, latch, reason })), pauses: [], notes: [] });
  }

  /**
   * Apply what the guard (or a ramp's hold) decided, whole and in one change: its observations
   * in the history, the reverts (latch, 0 %, the ramp ends failed) and the ramps paused instead.
   * Every part moves toward legacy: applied at once, saved when the store can.
   */
  applyGuard(plan: GuardActions): Applied {
    const out: Change[] = plan.notes.map((n) => this.record(n));
    const now = this.clock();
    for (const { route, latch, reason } of plan.reverts) {
      if (!this.splits.has(route)) continue;
      this.latches.set(route, latch);
      out.push(this.record({ source: 'guard', kind: 'guard', route, from: 'armed', to: 'reverted', reason }));
      const ramp = this.ramps.get(route);
      if (this.rampRules.active(ramp)) out.push(this.putRamp(route, this.rampRules.failed(ramp, now, reason, latch.evidence), 'guard').change);
      if (this.splits.get(route)!.percent !== 0) out.push(this.moveSplit(route, 0, 'guard', reason).change);
    }
    for (const { route, reason, evidence } of plan.pauses) {
      const ramp = this.ramps.get(route);
      const paused = ramp && this.rampRules.pausedByBreach(ramp, now, reason, evidence);
      if (!paused) continue;
      out.push(this.putRamp(route, paused, 'guard', `breach: ${reason}`).change);
    }
    return { changes: out, saved: this.track({ changed: out.length > 0, away: false, undo: [] }) };
  }

  ramp(route: string): RampState | undefined {
    return this.ramps.get(route);
  }

  /**
   * Apply a ramp transition (ramp/policy.ts) and the split that goes with it, as one change. Raising
   * the split, starting or resuming a ramp is a move away from legacy: undone and refused when it
   * cannot be saved, like setSplit.
   */
  applyRamp(route: string, t: Transition, by: By): Applied {
    this.known(route);
    const split = this.splits.get(route)!;
    const to = t.percent === undefined ? undefined : roundPercent(t.percent);
    const raises = to !== undefined && to > split.percent;
    if ((raises || t.state.status === 'running') && this.latches.has(route)) {
      throw new CutoverError('guard_latched', `the guard reverted ${route} and is latched; re-arm it first (cutover guard rearm --route ${route}), then start the ramp`);
    }
    const prev = this.ramps.get(route);
    const put = this.putRamp(route, t.state, by.source, by.reason);
    const undo: Undo[] = [put.undo];
    const out = [put.change];
    if (to !== undefined && to !== split.percent) {
      const moved = this.moveSplit(route, to, by.source, `ramp: ${this.rampRules.label(t.state)}`);
      out.push(moved.change);
      undo.unshift(moved.undo);
    }
    const away = raises || (t.state.status === 'running' && prev?.status !== 'running');
    return { changes: out, saved: this.track({ changed: true, away, undo }) };
  }

  /** Re-arm the guard on a route (or every route); the split stays where it is. */
  rearm(by: By & { route?: string }): Applied {
    this.known(by.route);
    const routes = by.route === undefined ? [...this.latches.keys()] : [by.route];
    const out: Change[] = [];
    const undo: Undo[] = [];
    for (const route of routes) {
      const latch = this.latches.get(route);
      if (!latch) continue;
      this.latches.delete(route);
      out.push(this.record({ source: by.source, kind: 'guard', route, from: 'reverted', to: 'armed', reason: by.reason }));
      undo.push((why) => {
        if (this.latches.has(route) || !this.splits.has(route)) return;
        this.latches.set(route, latch);
        this.record({ source: by.source, kind: 'guard', route, from: 'armed', to: 'reverted', reason: `undone: ${why}` });
      });
    }
    // A re-arm lets the split rise again: it only counts once it is saved.
    return { changes: out, saved: this.track({ changed: out.length > 0, away: true, undo }) };
  }

  /**
   * Record a change made elsewhere (a config reload, a guard observation) in the history.
   * `persist: false` for frequent observations: they reach the file with the next real change.
   */
  note(change: Omit<Change, 'time'>, opts: { persist?: boolean } = {}): Change {
    const c = this.record(change);
    if (opts.persist ?? true) void this.track({ changed: true, away: false, undo: [] });
    return c;
  }

  /** Forget routes that no longer exist (after a reload). */
  retainRoutes(names: ReadonlySet<string>): void {
    this.held.retain(names);
    void this.track({ changed: true, away: false, undo: [] });
  }

}

export { checkPersisted, describe };
