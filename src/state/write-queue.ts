// Batches state writes: at most one in flight, and every change made while it runs is coalesced
// into the next single write (the latest state wins). A change only asks for a write; the write
// itself starts on the next turn of the event loop, so a burst made in one turn (a scope-all guard
// revert of many routes) costs one write, and nothing on the request path waits for the disk.
// A failed write is retried with back-off until one succeeds; a new change does not wait for the
// back-off (its author is waiting for an answer).

export interface WriteQueueOptions<T> {
  save(state: T): Promise<void>;
  /** The state to write, taken when the write starts (so it carries every change made so far). */
  snapshot(): T;
  /** Every change up to `generation` is on disk. */
  written(generation: number): void;
  /** A write failed; nothing made since the last successful one is on disk. */
  failed(error: Error): void;
  /** Back-off between retries after a failure: first, doubling up to max (ms). */
  retryMs?: { first: number; max: number };
}

export interface WriteStatus {
  /** False from a failed write until the next successful one. */
  healthy: boolean;
  /** A change is not on disk yet (a write is due, in flight, or waiting for a retry). */
  pending: boolean;
  lastError: Error | undefined;
  writes: number;
  failures: number;
}

const RETRY = { first: 1000, max: 10_000 };

export class WriteQueue<T> {
  /** Generation of the latest change, and of the latest change known to be on disk. */
  private wanted = 0;
  private done = 0;
  private inFlight: Promise<void> | undefined;
  private due: NodeJS.Immediate | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryDelay: number;
  private retriesStopped = false;
  private lastError: Error | undefined;
  private writes = 0;
  private failures = 0;

  constructor(private readonly opts: WriteQueueOptions<T>) {
    this.retryDelay = (opts.retryMs ?? RETRY).first;
  }

  /** Note a change; returns its generation (`written` reports it once it is on disk). */
  changed(): number {
    this.wanted++;
    this.soon();
    return this.wanted;
  }

  /** The generation of the latest change (a caller with nothing new waits for this one). */
  get generation(): number {
    return this.wanted;
  }

  status(): WriteStatus {
    return {
      healthy: this.lastError === undefined,
      pending: this.wanted > this.done,
      lastError: this.lastError,
      writes: this.writes,
      failures: this.failures,
    };
  }

  /**
   * Write what is pending now and wait for it (shutdown). One attempt: after this no back-off
   * retries are scheduled, though later changes are still written.
   */
  async flush(): Promise<void> {
    this.retriesStopped = true;
    this.cancelRetry();
    if (this.inFlight !== undefined) await this.inFlight;
    if (this.due !== undefined) {
      clearImmediate(this.due);
      this.due = undefined;
    }
    if (this.inFlight === undefined && this.wanted > this.done) this.start();
    await this.inFlight;
  }

  private soon(): void {
    if (this.inFlight !== undefined || this.due !== undefined) return;
    this.cancelRetry();
    this.due = setImmediate(() => {
      this.due = undefined;
      if (this.inFlight === undefined) this.start();
    });
  }

  private start(): void {
    this.inFlight = this.run().finally(() => {
      this.inFlight = undefined;
      if (this.lastError === undefined) {
        if (this.wanted > this.done) this.soon();
      } else if (this.wanted > this.done) {
        this.retryLater();
      }
    });
  }

  private async run(): Promise<void> {
    const generation = this.wanted;
    try {
      await this.opts.save(this.opts.snapshot());
    } catch (err) {
      this.failures++;
      this.lastError = err instanceof Error ? err : new Error(String(err));
      this.opts.failed(this.lastError);
      return;
    }
    this.writes++;
    this.done = generation;
    this.lastError = undefined;
    this.retryDelay = (this.opts.retryMs ?? RETRY).first;
    this.opts.written(generation);
  }

  private retryLater(): void {
    if (this.retriesStopped || this.retryTimer !== undefined) return;
    const max = (this.opts.retryMs ?? RETRY).max;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.soon();
    }, this.retryDelay);
    this.retryTimer.unref();
    this.retryDelay = Math.min(this.retryDelay * 2, max);
  }

  private cancelRetry(): void {
    if (this.retryTimer === undefined) return;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }
}
