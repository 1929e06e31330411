// What control/ holds and how a change to it is kept: the state in memory (held.ts), the history
// (history.ts), the store (durability.ts), restoring at start-up and applying another replica's
// state. The operations that change it (the split, maintenance, the guard, the ramp) are
// control.ts, built on the primitives here: move a split or a ramp with its undo, record, track.
import type { Config } from '../config/schema.js';
import { CutoverError } from '../errors.js';
import type { Logger } from '../log.js';
import type { RouteSplit, ShadowShare } from '../split/route.js';
import type { FileStateStore, LoadResult } from '../state/file-store.js';
import type { StateStore } from '../state/store.js';
import type { Change, Maintenance, PersistedState, RampState, Source } from '../state/types.js';
import { Durability, type Saved, type Undo } from './durability.js';
import { Held } from './held.js';
import { History, HISTORY_KEPT } from './history.js';
import type { RampRules } from './ramp-port.js';
import type { Persistence } from './types.js';

const NO_FILE: Saved = { persisted: false, reason: 'no state file is configured: changes live in memory only' };

export type Store = StateStore<PersistedState> & Partial<Pick<FileStateStore<PersistedState>, 'load' | 'moveAside' | 'file'>>;

export class ControlKeeper {
  protected readonly held = new Held();
  protected readonly splits = this.held.splits;
  protected readonly latches = this.held.latches;
  protected readonly ramps = this.held.ramps;
  protected readonly log: History;
  /** Read by the proxy on every request. */
  get maintenance(): Maintenance {
    return this.held.maintenance;
  }
  protected set maintenance(m: Maintenance) {
    this.held.maintenance = m;
  }
  /** Where the split came from at start-up: the state file, the config, or the safe default. */
  restoredFrom: 'state-file' | 'config' | 'safe' = 'config';
  protected readonly durability: Durability<PersistedState> | undefined;

  /** Names this process in the history (`replica`) and makes change ids unique across a fleet. */
  get replica(): string {
    return this.log.replica;
  }
  set replica(name: string) {
    this.log.replica = name;
  }

  /**
   * @param clock wall-clock ms: history times, change ids, ramp deadlines
   * @param rampRules the ramp's transitions (ramp/machine.ts), so that a split set by hand or a
   *   revert ends the route's ramp in the same change
   */
  constructor(
    config: Config,
    private readonly store: Store | undefined,
    protected readonly logger: Logger | undefined,
    protected readonly clock: () => number,
    protected readonly rampRules: RampRules,
  ) {
    this.log = new History(clock, logger);
    for (const r of config.routes) this.split(r.name, r.candidatePercent);
    // Shares of the routes that shadow: also in a workers' primary, which builds no routing table.
    for (const r of config.routes) if (r.shadow) this.shadowShare(r.name, r.shadow.percent ?? 0);
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
    const loaded = opts.reset ? undefined : (opts.loaded ?? this.store.load?.() ?? { kind: 'missing' as const });
    if (loaded === undefined) {
      this.logger?.warn({ stateFile: file }, 'state: --reset-state given, starting from the config percentages');
      this.restoredFrom = 'config';
    } else if (loaded.kind === 'missing') {
      this.logger?.info({ stateFile: file }, 'state: no state file yet, the config percentages apply');
      this.restoredFrom = 'config';
    } else if (loaded.kind === 'corrupt') {
      this.startSafe(file, loaded.error);
    } else {
      this.held.load(loaded.state, false);
      this.log.changes.push(...(loaded.state.history ?? []).slice(0, HISTORY_KEPT));
      this.restoredFrom = 'state-file';
      this.logger?.info(
        { stateFile: file, routes: Object.fromEntries([...this.splits].map(([k, v]) => [k, v.percent])), maintenance: this.maintenance.enabled },
        'state: the state file wins over the config percentages',
      );
    }
    return this.track({ changed: true, away: false, undo: [] });
  }

  /** The state file is unusable: move it aside and send every route to 0 % until an operator sets it. */
  private startSafe(file: string, problem: string): void {
    let aside: string | undefined;
    try {
      aside = this.store?.moveAside?.(new Date(this.clock()));
    } catch {
      // could not move it: it is overwritten, the error log keeps the reason
    }
    for (const s of this.splits.values()) s.percent = 0;
    this.restoredFrom = 'safe';
    this.logger?.error({ stateFile: file, movedTo: aside, problem }, 'state: the state file is unusable; starting safe with candidate 0 % on every route until an operator sets it');
    this.record({ source: 'startup', kind: 'split', from: null, to: 0, reason: `state file unusable (${problem}); started safe` });
  }

  /** The split object of a route, created with `initialPercent` the first time it is asked for. */
  split(route: string, initialPercent = 0): RouteSplit {
    return this.held.split(route, initialPercent);
  }

  /** The shadow share of a route, for its tap: the config's percent unless set at run time (setShadow). */
  shadowShare(route: string, configPercent = 0): ShadowShare {
    return this.held.shadow(route, configPercent);
  }

  /** The shadow's share of a route now, when it has a shadow. */
  shadowPercent(route: string): number | undefined {
    return this.held.shadows.get(route)?.percent;
  }

  routes(): string[] {
    return [...this.splits.keys()];
  }

  percent(route: string): number | undefined {
    return this.splits.get(route)?.percent;
  }

  protected known(route: string | undefined): void {
    if (route !== undefined && !this.splits.has(route)) throw new CutoverError('unknown_route', `no route named "${route}"; routes are: ${this.routes().join(', ')}`);
  }

  /** Move one route's split, recorded; the undo puts it back unless it changed again since. */
  protected moveSplit(route: string, to: number, source: Source, reason: string | undefined): { change: Change; undo: Undo } {
    const split = this.splits.get(route)!;
    const from = split.percent;
    split.percent = to;
    const change = this.record({ source, kind: 'split', route, from, to, reason });
    const undo: Undo = (why) => {
      if (split.percent !== to) return; // changed again since: the later change decides
      split.percent = from;
      this.record({ source, kind: 'split', route, from: to, to: from, reason: `undone: ${why}` });
    };
    return { change, undo };
  }


  /** Set a route's ramp state, recorded in the history. */
  protected putRamp(route: string, next: RampState, source: Source, reason?: string): { change: Change; undo: Undo } {
    const prev = this.ramps.get(route);
    const { label } = this.rampRules;
    this.ramps.set(route, next);
    const event = this.rampRules.event(prev, next, source);
    const change = this.record({ source, kind: 'ramp', route, from: label(prev), to: label(next), reason: reason ?? next.reason, event });
    const undo: Undo = (why) => {
      if (this.ramps.get(route) !== next) return;
      if (prev) this.ramps.set(route, prev);
      else this.ramps.delete(route);
      this.record({ source, kind: 'ramp', route, from: label(next), to: label(prev), reason: `undone: ${why}` });
    };
    return { change, undo };
  }


  history(limit = HISTORY_KEPT): Change[] {
    return this.log.changes.slice(0, limit);
  }

  onChange(listener: (c: Change) => void): () => void {
    return this.log.onChange(listener);
  }

  toPersisted(): PersistedState {
    return this.held.persisted(this.log.changes, this.clock());
  }

  /**
   * Control state another replica wrote (the fleet's store), merged already with what this
   * replica changed and has not written yet. Applies it for the next request; each history entry
   * this replica had not seen is announced to the listeners (the guard runner sees a re-arm, the
   * metrics count it) and logged, but not written again.
   */
  applyRemote(s: PersistedState): Change[] {
    this.held.load(s, true);
    return this.log.replace(s.history ?? []);
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

  protected track(t: { changed: boolean; away: boolean; undo: Undo[] }): Promise<Saved> {
    return this.durability ? this.durability.track(t) : Promise.resolve(NO_FILE);
  }

  protected record(c: Omit<Change, 'time'>): Change {
    return this.log.record(c);
  }
}
