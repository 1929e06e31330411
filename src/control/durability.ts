// Which control changes are on disk, and what becomes of those a write could not save. A change
// away from legacy (raising the split, maintenance off, a re-arm) is undone and refused: a restart
// would undo it silently, so it is never acknowledged. A change toward legacy (lowering the split,
// a rollback, a guard revert, maintenance on) stays in effect, since it is the safe direction, is
// reported as not saved, and reaches the disk with the next write that succeeds.
import { StoreUnavailableError } from '../errors.js';
import type { Logger } from '../log.js';
import type { StateStore } from '../state/store.js';
import { WriteQueue, type WriteStatus } from '../state/write-queue.js';

export type Saved = { persisted: true } | { persisted: false; reason: string };

/** Undoes one step of a change if nothing changed that part since; gets the reason for the history. */
export type Undo = (reason: string) => void;

export interface Tracked {
  /** Whether anything changed in memory (a no-op waits only for what is already pending). */
  changed: boolean;
  away: boolean;
  undo: Undo[];
}

interface Entry {
  generation: number;
  away: boolean;
  undo: Undo[];
  resolve(s: Saved): void;
  reject(e: Error): void;
}

export class Durability<T> {
  /** Changes in memory and not yet on disk, oldest first. */
  private entries: Entry[] = [];
  private failing = false;
  private readonly queue: WriteQueue<T>;

  constructor(
    private readonly store: StateStore<T>,
    snapshot: () => T,
    private readonly logger?: Logger,
  ) {
    this.queue = new WriteQueue({
      save: (s) => store.save(s),
      snapshot,
      written: (g) => this.written(g),
      failed: (e) => this.failed(e),
    });
  }

  get name(): string {
    return this.store.name;
  }

  /** Resolves when the change is on disk; see the file's head for what a failed write does. */
  track(t: Tracked): Promise<Saved> {
    const status = this.queue.status();
    // Nothing new: answer from what is known now rather than wait up to a back-off for a retry.
    if (!t.changed && !status.healthy) return Promise.resolve({ persisted: false, reason: this.reason(status.lastError!) });
    if (!t.changed && !status.pending) return Promise.resolve({ persisted: true });
    const generation = t.changed ? this.queue.changed() : this.queue.generation;
    const saved = new Promise<Saved>((resolve, reject) => this.entries.push({ generation, away: t.away && t.changed, undo: t.undo, resolve, reject }));
    // The guard and reloads do not wait for the answer; a refusal is logged in failed().
    saved.catch(() => undefined);
    return saved;
  }

  status(): WriteStatus {
    return this.queue.status();
  }

  /** Write what is pending and wait for it (shutdown). */
  flush(): Promise<void> {
    return this.queue.flush();
  }

  private written(generation: number): void {
    if (this.failing) {
      this.failing = false;
      this.logger?.warn({ store: this.store.name }, `state: ${this.store.name} is written again; the changes kept in memory are saved`);
    }
    const done = this.entries.filter((e) => e.generation <= generation);
    if (done.length === 0) return;
    this.entries = this.entries.filter((e) => e.generation > generation);
    for (const e of done) e.resolve({ persisted: true });
  }

  private failed(err: Error): void {
    const reason = this.reason(err);
    this.failing = true;
    // Every change not on disk is settled now, including those made during the failed write: the
    // store is failing, and an away change that waited would be undone on top of later ones.
    const all = this.entries;
    this.entries = [];
    const refused = all.filter((e) => e.away);
    // Newest first, so a chain of raises on one route unwinds step by step to where it started.
    for (const e of [...refused].reverse()) for (const u of [...e.undo].reverse()) u(reason);
    this.logger?.error(
      { store: this.store.name, err: err.message, refused: refused.length, keptNotSaved: all.length - refused.length },
      `state: could not write ${this.store.name}; changes away from legacy are undone, changes toward legacy apply and will be saved when it works again`,
    );
    for (const e of all) {
      if (e.away) e.reject(new StoreUnavailableError(reason));
      else e.resolve({ persisted: false, reason: `${reason}; the change applies now and is saved as soon as the store works again (retrying)` });
    }
  }

  private reason(err: Error): string {
    return `cannot write ${this.store.name}: ${err.message}`;
  }
}
