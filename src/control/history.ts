// The history of control changes, and who hears of them: every change is recorded here (newest
// first, bounded), logged and announced to the listeners (metrics, webhooks, the guard runner).
import type { Logger } from '../log.js';
import type { Change } from '../state/types.js';
import { describe } from './describe.js';

export const HISTORY_KEPT = 500;

export class History {
  readonly changes: Change[] = [];
  private readonly listeners: Array<(c: Change) => void> = [];
  /** Names this process in the history (`replica`) and makes change ids unique across a fleet. */
  replica = 'local';
  private sequence = 0;

  constructor(
    private readonly clock: () => number,
    private readonly logger: Logger | undefined,
  ) {}

  record(c: Omit<Change, 'time'>): Change {
    const at = this.clock();
    const change: Change = { id: `${this.replica}:${at.toString(36)}.${++this.sequence}`, replica: this.replica, time: new Date(at).toISOString(), ...c };
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

  /**
   * Take another replica's history; each entry this replica had not seen is logged and announced
   * (the guard runner sees a re-arm, the metrics count it), not recorded again. Returns those.
   */
  replace(entries: readonly Change[]): Change[] {
    const known = new Set(this.changes.map((c) => c.id).filter((id) => id !== undefined));
    const fresh = entries.filter((c) => c.id === undefined || !known.has(c.id));
    this.changes.length = 0;
    this.changes.push(...entries.slice(0, HISTORY_KEPT));
    for (const c of [...fresh].reverse()) {
      this.logger?.info({ change: c }, `control: from replica ${c.replica ?? '?'}: ${describe(c)}`);
      this.announce(c);
    }
    return fresh;
  }

  onChange(listener: (c: Change) => void): () => void {
    this.listeners.push(listener);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i !== -1) this.listeners.splice(i, 1);
    };
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
