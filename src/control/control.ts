// The one owner of mutable control state: the split of every route, maintenance, the guard's
// latch and the history of changes. Every change goes through here: validated, persisted,
// logged, recorded in history and announced to listeners (metrics, webhooks). The proxy holds
// references to the RouteSplit objects and reads them on every request, without locks.
// A change applies in memory at once; `saved` says when it is on disk, and durability.ts what
// happens when it cannot be (a change away from legacy is undone and refused).
import type { Config } from '../config/schema.js';
import { CutoverError } from '../errors.js';
import type { Logger } from '../log.js';
import { newInterleave } from '../split/decide.js';
import type { RouteSplit } from '../split/route.js';
import type { FileStateStore, LoadResult } from '../state/file-store.js';
import type { StateStore } from '../state/store.js';
import { active, failed, rampEvent, rampLabel, superseded, type RampState, type Transition } from '../ramp/policy.js';
import { Durability, type Saved, type Undo } from './durability.js';
import { describe } from './describe.js';
import { checkPersisted, STATE_VERSION, type GuardLatch, type PersistedState } from './persisted.js';

export type Source = 'api' | 'cli' | 'dashboard' | 'config' | 'guard' | 'startup' | 'reload' | 'ramp';
export type ChangeKind = 'split' | 'maintenance' | 'guard' | 'config' | 'ramp';

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

export type { Saved };

const NO_FILE: Saved = { persisted: false, reason: 'no state file is configured: changes live in memory only' };

export interface By {
  source: Source;
  reason?: string;
}

const HISTORY_KEPT = 500;

export class Control {
  private readonly splits = new Map<string, RouteSplit>();
  private readonly latches = new Map<string, GuardLatch>();
  private readonly ramps = new Map<string, RampState>();
  private readonly changes: Change[] = [];
  private readonly listeners: Array<(c: Change) => void> = [];
  maintenance: Maintenance = { enabled: false, retryAfterSeconds: 30, message: 'The service is down for maintenance; try again shortly.' };
  /** Where the split came from at start-up: the state file, the config, or the safe default. */
  restoredFrom: 'state-file' | 'config' | 'safe' = 'config';
  private readonly durability: Durability<PersistedState> | undefined;

  /** Names this process in the history (`replica`) and makes change ids unique across a fleet. */
  replica = 'local';
  private sequence = 0;

  constructor(
    config: Config,
    private readonly store?: StateStore<PersistedState> & Partial<Pick<FileStateStore<PersistedState>, 'load' | 'moveAside' | 'file'>>,
    private readonly logger?: Logger,
    private readonly clock: () => number = Date.now,
  ) {
    for (const r of config.routes) this.split(r.name, r.candidatePercent);
    this.durability = store ? new Durability(store, () => this.toPersisted(), logger) : undefined;
  }

  /**
   * Load the state file. It wins over the config (a process restarted after a rollback stays
   * rolled back); routes it does not know keep the config's percentage. A corrupt file is moved
   * aside and every route starts at 0 % until an operator sets it. The returned promise settles
   * with the first write (which also tells early whether the file can be written).
   */
  restore(opts: { reset?: boolean; loaded?: LoadResult<PersistedState> } = {}): Promise<Saved> {
    if (!this.store) return Promise.resolve(NO_FILE);
    const file = this.store.name;
    if (opts.reset) {
      this.logger?.warn({ stateFile: file }, 'state: --reset-state given, starting from the config percentages');
      this.restoredFrom = 'config';
    } else {
      const loaded = opts.loaded ?? this.store.load?.() ?? { kind: 'missing' };
      if (loaded.kind === 'missing') {
        this.logger?.info({ stateFile: file }, 'state: no state file yet, the config percentages apply');
        this.restoredFrom = 'config';
      } else if (loaded.kind === 'corrupt') {
        let aside: string | undefined;
        try {
          aside = this.store.moveAside?.(new Date(this.clock()));
        } catch {
          // could not move it: it is overwritten below, the error log keeps the reason
        }
        for (const s of this.splits.values()) s.percent = 0;
        this.restoredFrom = 'safe';
        this.logger?.error(
          { stateFile: file, movedTo: aside, problem: loaded.error },
          'state: the state file is unusable; starting safe with candidate 0 % on every route until an operator sets it',
        );
        this.record({ source: 'startup', kind: 'split', from: null, to: 0, reason: `state file unusable (${loaded.error}); started safe` });
      } else {
        const s = loaded.state;
        for (const [route, r] of Object.entries(s.routes)) {
          const split = this.splits.get(route);
          if (split) split.percent = r.candidatePercent;
        }
        this.maintenance = { ...this.maintenance, ...s.maintenance };
        for (const [route, latch] of Object.entries(s.guard ?? {})) this.latches.set(route, latch);
        for (const [route, ramp] of Object.entries(s.ramp ?? {})) if (this.splits.has(route)) this.ramps.set(route, ramp);
        this.changes.push(...(s.history ?? []).slice(0, HISTORY_KEPT));
        this.restoredFrom = 'state-file';
        this.logger?.info(
          { stateFile: file, routes: Object.fromEntries([...this.splits].map(([k, v]) => [k, v.percent])), maintenance: this.maintenance.enabled },
          'state: the state file wins over the config percentages',
        );
      }
    }
    return this.track({ changed: true, away: false, undo: [] });
  }

  /** The split object of a route, created with `initialPercent` the first time it is asked for. */
  split(route: string, initialPercent = 0): RouteSplit {
    let s = this.splits.get(route);
    if (!s) {
      s = { percent: initialPercent, interleave: newInterleave() };
      this.splits.set(route, s);
    }
    return s;
  }

  routes(): string[] {
    return [...this.splits.keys()];
  }

  percent(route: string): number | undefined {
    return this.splits.get(route)?.percent;
  }

  /** Set the candidate percentage of one route, or of every route when `route` is undefined. */
  setSplit(percent: number, by: By & { route?: string }): Applied {
    if (typeof percent !== 'number' || !Number.isFinite(percent) || percent < 0 || percent > 100) {
      throw new CutoverError('invalid_percent', 400, `candidatePercent must be a number from 0 to 100, got ${JSON.stringify(percent)}`);
    }
    const routes = by.route === undefined ? this.routes() : [by.route];
    if (by.route !== undefined && !this.splits.has(by.route)) {
      throw new CutoverError('unknown_route', 404, `no route named "${by.route}"; routes are: ${this.routes().join(', ')}`);
    }
    const latched = percent > 0 ? routes.filter((r) => this.latches.has(r)) : [];
    if (latched.length > 0) {
      throw new CutoverError(
        'guard_latched',
        409,
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
      if (active(ramp) && split.percent !== percent) {
        const put = this.putRamp(route, superseded(ramp, this.clock(), percent, by.source), by.source);
        out.push(put.change);
        undo.push(put.undo);
      }
      if (split.percent === percent) continue;
      const from = split.percent;
      split.percent = percent;
      away ||= percent > from;
      out.push(this.record({ source: by.source, kind: 'split', route, from, to: percent, reason: by.reason }));
      undo.push((why) => {
        if (split.percent !== percent) return; // changed again since: the later change decides
        split.percent = from;
        this.record({ source: by.source, kind: 'split', route, from: percent, to: from, reason: `undone: ${why}` });
      });
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

  latch(route: string): GuardLatch | undefined {
    return this.latches.get(route);
  }

  /** Latch the guard on routes and send them to 0 % in one step (the revert). */
  revert(routes: readonly string[], latch: GuardLatch, reason: string): Applied {
    const out: Change[] = [];
    for (const route of routes) {
      const split = this.splits.get(route);
      if (!split) continue;
      this.latches.set(route, latch);
      out.push(this.record({ source: 'guard', kind: 'guard', route, from: 'armed', to: 'reverted', reason }));
      const ramp = this.ramps.get(route);
      if (active(ramp)) out.push(this.putRamp(route, failed(ramp, this.clock(), reason, latch.evidence), 'guard').change);
      if (split.percent !== 0) {
        const from = split.percent;
        split.percent = 0;
        out.push(this.record({ source: 'guard', kind: 'split', route, from, to: 0, reason }));
      }
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
    const split = this.splits.get(route);
    if (!split) throw new CutoverError('unknown_route', 404, `no route named "${route}"; routes are: ${this.routes().join(', ')}`);
    const fromPercent = split.percent;
    const raises = t.percent !== undefined && t.percent > fromPercent;
    if ((raises || t.state.status === 'running') && this.latches.has(route)) {
      throw new CutoverError('guard_latched', 409, `the guard reverted ${route} and is latched; re-arm it first (cutover guard rearm --route ${route}), then start the ramp`);
    }
    const prev = this.ramps.get(route);
    const put = this.putRamp(route, t.state, by.source, by.reason);
    const undo: Undo[] = [put.undo];
    const out = [put.change];
    if (t.percent !== undefined && t.percent !== fromPercent) {
      const to = t.percent;
      split.percent = to;
      out.push(this.record({ source: by.source, kind: 'split', route, from: fromPercent, to, reason: `ramp: ${rampLabel(t.state)}` }));
      undo.unshift((why) => {
        if (split.percent !== to) return;
        split.percent = fromPercent;
        this.record({ source: by.source, kind: 'split', route, from: to, to: fromPercent, reason: `undone: ${why}` });
      });
    }
    const away = raises || (t.state.status === 'running' && prev?.status !== 'running');
    return { changes: out, saved: this.track({ changed: true, away, undo }) };
  }

  /** Set a route's ramp state, recorded in the history. */
  private putRamp(route: string, next: RampState, source: Source, reason?: string): { change: Change; undo: Undo } {
    const prev = this.ramps.get(route);
    this.ramps.set(route, next);
    const event = rampEvent(prev, next, source);
    const change = this.record({ source, kind: 'ramp', route, from: rampLabel(prev), to: rampLabel(next), reason: reason ?? next.reason, event });
    const undo: Undo = (why) => {
      if (this.ramps.get(route) !== next) return;
      if (prev) this.ramps.set(route, prev);
      else this.ramps.delete(route);
      this.record({ source, kind: 'ramp', route, from: rampLabel(next), to: rampLabel(prev), reason: `undone: ${why}` });
    };
    return { change, undo };
  }

  /** Re-arm the guard on a route (or every route); the split stays where it is. */
  rearm(by: By & { route?: string }): Applied {
    const routes = by.route === undefined ? [...this.latches.keys()] : [by.route];
    if (by.route !== undefined && !this.splits.has(by.route)) {
      throw new CutoverError('unknown_route', 404, `no route named "${by.route}"; routes are: ${this.routes().join(', ')}`);
    }
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
    for (const name of [...this.splits.keys()]) if (!names.has(name)) this.splits.delete(name);
    for (const name of [...this.latches.keys()]) if (!names.has(name)) this.latches.delete(name);
    for (const name of [...this.ramps.keys()]) if (!names.has(name)) this.ramps.delete(name);
    void this.track({ changed: true, away: false, undo: [] });
  }

  history(limit = HISTORY_KEPT): Change[] {
    return this.changes.slice(0, limit);
  }

  onChange(listener: (c: Change) => void): () => void {
    this.listeners.push(listener);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i !== -1) this.listeners.splice(i, 1);
    };
  }

  toPersisted(): PersistedState {
    return {
      version: STATE_VERSION,
      savedAt: new Date(this.clock()).toISOString(),
      routes: Object.fromEntries([...this.splits].map(([k, v]) => [k, { candidatePercent: v.percent }])),
      maintenance: this.maintenance,
      guard: Object.fromEntries(this.latches),
      ramp: Object.fromEntries(this.ramps),
      history: this.changes.slice(0, 200),
    };
  }

  /**
   * Control state another replica wrote (the fleet's store), merged already with what this
   * replica changed and has not written yet. Applies it for the next request; each history entry
   * this replica had not seen is announced to the listeners (the guard runner sees a re-arm, the
   * metrics count it) and logged, but not written again.
   */
  applyRemote(s: PersistedState): Change[] {
    for (const [route, r] of Object.entries(s.routes)) {
      const split = this.splits.get(route);
      if (split) split.percent = r.candidatePercent;
    }
    this.maintenance = { ...this.maintenance, ...s.maintenance };
    this.latches.clear();
    for (const [route, latch] of Object.entries(s.guard ?? {})) if (this.splits.has(route)) this.latches.set(route, latch);
    this.ramps.clear();
    for (const [route, ramp] of Object.entries(s.ramp ?? {})) if (this.splits.has(route)) this.ramps.set(route, ramp);
    const known = new Set(this.changes.map((c) => c.id).filter((id) => id !== undefined));
    const fresh = (s.history ?? []).filter((c) => c.id === undefined || !known.has(c.id));
    this.changes.length = 0;
    this.changes.push(...(s.history ?? []).slice(0, HISTORY_KEPT));
    for (const c of [...fresh].reverse()) {
      this.logger?.info({ change: c }, `control: from replica ${c.replica ?? '?'}: ${describe(c)}`);
      this.announce(c);
    }
    return fresh;
  }


  /** Write what is not on disk yet and wait for it (shutdown). A failure is logged, not thrown. */
  async flush(): Promise<void> {
    await this.durability?.flush();
  }

  persistence(): Persistence {
    if (!this.durability) return { file: null, store: null, persisted: false, lastError: null, pending: false, writes: 0, failures: 0 };
    const s = this.durability.status();
    return { file: this.store?.file ?? null, store: this.durability.name, persisted: s.healthy, lastError: s.lastError?.message ?? null, pending: s.pending, writes: s.writes, failures: s.failures };
  }

  private track(t: { changed: boolean; away: boolean; undo: Undo[] }): Promise<Saved> {
    return this.durability ? this.durability.track(t) : Promise.resolve(NO_FILE);
  }

  private record(c: Omit<Change, 'time'>): Change {
    const change: Change = { id: `${this.replica}:${Date.now().toString(36)}.${++this.sequence}`, replica: this.replica, time: new Date(this.clock()).toISOString(), ...c };
    if (change.reason === undefined) delete change.reason;
    if (change.event === undefined) delete change.event;
    this.changes.unshift(change);
    if (this.changes.length > HISTORY_KEPT) this.changes.length = HISTORY_KEPT;
    // Operator actions and ramp steps at info; what the guard does (breaches, reverts) at warn.
    if (change.source === 'guard') this.logger?.warn({ change }, `control: ${describe(change)}`);
    else this.logger?.info({ change }, `control: ${describe(change)}`);
    this.announce(change);
    return change;
  }

  private announce(change: Change): void {
    for (const l of this.listeners) {
      try {
        l(change);
      } catch (err) {
        this.logger?.error({ err: (err as Error).message }, 'control: a change listener failed');
      }
    }
  }
}

export { checkPersisted, describe };
