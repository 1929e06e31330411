// The primary's workers: forked with node:cluster (they share the primary's listening socket),
// told their config and control state, asked questions over IPC, replaced when one dies, and
// replaced all together without a gap (restart). Their guard figures are the primary's guard
// source: merged exactly (mergeGuardSnapshots), the way a fleet's leader merges its replicas'.
import cluster, { type Worker } from 'node:cluster';
import type { AddressInfo } from 'node:net';
import type { Serializable } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { DataPlaneSpec } from '../data-plane.js';
import type { PersistedState } from '../control/persisted.js';
import { combineWire, mergeGuardSnapshots, type GuardSnapshot, type Merged, type WireRoute } from '../fleet/snapshots.js';
import type { FiguresSource } from '../guard/runner.js';
import type { WindowFigures } from '../guard/rules.js';
import type { Logger } from '../log.js';
import type { ParityEvidence } from '../parity/source.js';
import { isFromWorker, type Answers, type Question, type Served, type ToWorker } from './messages.js';

export interface Member {
  worker: Worker;
  id: number;
  pid: number;
  state: 'starting' | 'serving' | 'draining';
  startedAt: number;
  snapshot?: GuardSnapshot;
  served: Served;
  inFlight: number;
  lastReportAt?: number;
  ready: Promise<AddressInfo>;
  exited: Promise<void>;
}

export interface PoolDeps {
  logger: Logger;
  /** What a new worker starts with: the spec now and the control state now. */
  init: () => { spec: DataPlaneSpec; configFile?: string; state: PersistedState };
  /** A worker died and was replaced: how it ended (signal or exit code). */
  replaced(reason: string): void;
  /** How long a new worker may take to listen. */
  readyTimeoutMs?: number;
}

const ASK_TIMEOUT_MS = 2000;

export class WorkerPool implements FiguresSource {
  readonly members = new Map<number, Member>();
  private readonly waiting = new Map<number, { resolve(v: unknown): void; reject(e: Error): void; timer: NodeJS.Timeout }>();
  private nextAsk = 0;
  private closing = false;
  private merge: { dirty: boolean; last: Merged | undefined } = { dirty: true, last: undefined };
  /** The guard interval: snapshots older than two of them are left out of the merge. */
  intervalMs: number;

  constructor(private readonly deps: PoolDeps) {
    // Workers run their own entry, which imports the data plane only (not the CLI).
    cluster.setupPrimary({ exec: fileURLToPath(new URL('./worker-main.js', import.meta.url)), args: [] });
    this.intervalMs = deps.init().spec.config.guard.intervalMs;
  }

  /** Fork `n` workers and wait until every one listens; resolves the address they share. */
  async start(n: number): Promise<AddressInfo> {
    const members = Array.from({ length: n }, () => this.fork());
    const [address] = await Promise.all(members.map((m) => m.ready));
    return address;
  }

  fork(): Member {
    const worker = cluster.fork();
    let ready!: (a: AddressInfo) => void;
    let failed!: (e: Error) => void;
    const m: Member = {
      worker,
      id: worker.id,
      pid: worker.process.pid ?? 0,
      state: 'starting',
      startedAt: Date.now(),
      served: { legacy: 0, candidate: 0 },
      inFlight: 0,
      ready: new Promise<AddressInfo>((resolve, reject) => ((ready = resolve), (failed = reject))),
      exited: new Promise<void>((resolve) => worker.once('exit', () => resolve())),
    };
    m.ready.catch(() => {}); // a worker that never listens is reported by whoever waits for it
    const timeout = setTimeout(() => failed(new Error(`worker ${m.pid} did not listen within ${this.deps.readyTimeoutMs ?? 30_000} ms`)), this.deps.readyTimeoutMs ?? 30_000);
    timeout.unref();
    this.members.set(m.id, m);
    worker.on('message', (msg: unknown) => {
      if (!isFromWorker(msg)) return;
      switch (msg.cutover) {
        case 'hello':
          return this.send(m, { cutover: 'init', ...this.deps.init() });
        case 'ready':
          clearTimeout(timeout);
          m.state = 'serving';
          return ready(msg.address);
        case 'figures':
          Object.assign(m, { snapshot: msg.snapshot, served: msg.served, inFlight: msg.inFlight, lastReportAt: Date.now() });
          this.merge.dirty = true;
          return;
        case 'answer': {
          const w = this.waiting.get(msg.id);
          if (!w) return;
          this.waiting.delete(msg.id);
          clearTimeout(w.timer);
          return msg.error === undefined ? w.resolve(msg.value) : w.reject(new Error(msg.error));
        }
      }
    });
    worker.once('exit', (code, signal) => {
      clearTimeout(timeout);
      failed(new Error(`worker ${m.pid} exited (code ${code}, signal ${signal}) before it listened`));
      this.exited(m, code, signal);
    });
    return m;
  }

  /** A worker ended: gone from the merge; replaced unless it was meant to stop. */
  private exited(m: Member, code: number | null, signal: string | null): void {
    this.members.delete(m.id);
    this.merge.dirty = true;
    if (this.closing || m.state === 'draining') return;
    // Died while serving (or starting): replace it; a crash loop is slowed to one fork a second.
    const early = Date.now() - m.startedAt < 1000;
    this.deps.logger.error({ worker: m.id, pid: m.pid, code, signal }, 'worker died: replacing it');
    this.deps.replaced(signal ?? `exit ${code}`);
    const replace = () => {
      if (this.closing) return;
      const r = this.fork();
      r.ready.then(
        () => this.deps.logger.info({ worker: r.id, pid: r.pid, replaced: m.pid }, 'worker replaced'),
        (err: Error) => this.deps.logger.error({ err: err.message }, 'replacement worker failed to start'),
      );
    };
    if (early) setTimeout(replace, 1000).unref();
    else replace();
  }

  send(m: Member, msg: ToWorker): void {
    if (m.worker.isConnected()) m.worker.send(msg as unknown as Serializable, undefined, () => {});
  }

  /** Every worker, the draining ones too (a revert must reach the connections they still serve). */
  broadcast(msg: ToWorker): void {
    for (const m of this.members.values()) this.send(m, msg);
  }

  ask<K extends Question['kind']>(m: Member, question: Extract<Question, { kind: K }>, timeoutMs = ASK_TIMEOUT_MS): Promise<Answers[K]> {
    const id = ++this.nextAsk;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new Error(`worker ${m.pid} did not answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
      this.send(m, { cutover: 'ask', id, question });
    });
  }

  /** Ask every serving worker; each result is its answer or why there is none. */
  askAll<K extends Question['kind']>(question: Extract<Question, { kind: K }>): Promise<Array<{ member: Member; value?: Answers[K]; error?: string }>> {
    return Promise.all(
      this.serving().map((member) =>
        this.ask(member, question).then(
          (value) => ({ member, value }),
          (err: Error) => ({ member, error: err.message }),
        ),
      ),
    );
  }

  serving(): Member[] {
    return [...this.members.values()].filter((m) => m.state === 'serving');
  }

  /** Drain these workers (stop accepting, drainMs with Connection: close, graceMs); kill any still alive after that. */
  async drain(members: Member[], drainMs: number, graceMs: number, mode: 'retire' | 'shutdown' = 'retire'): Promise<void> {
    await Promise.all(
      members.map(async (m) => {
        m.state = 'draining';
        this.send(m, { cutover: 'drain', drainMs, graceMs, mode });
        const late = setTimeout(() => m.worker.process.kill('SIGKILL'), drainMs + graceMs + 5000);
        await m.exited;
        clearTimeout(late);
      }),
    );
  }

  /**
   * Replace every worker: fork `n` new ones (the code and config on disk), wait until all listen,
   * then drain the old ones. The listening socket stays the primary's all along, so no
   * connection is refused. A new worker that fails to start: the new ones are stopped, the old
   * ones keep serving, and it throws.
   */
  async replaceAll(n: number, drainMs: number, graceMs: number): Promise<{ stopped: Member[]; started: Member[]; drained: Promise<void> }> {
    const old = [...this.members.values()].filter((m) => m.state !== 'draining');
    const started = Array.from({ length: n }, () => this.fork());
    try {
      await Promise.all(started.map((m) => m.ready));
    } catch (err) {
      for (const m of started) m.state = 'draining'; // not replaced when they exit
      await this.drain(started, 0, 1000);
      throw err;
    }
    return { stopped: old, started, drained: this.drain(old, drainMs, graceMs) };
  }

  async close(graceMs: number, drainMs = 0): Promise<void> {
    this.closing = true;
    await this.drain([...this.members.values()], drainMs, graceMs, 'shutdown');
    for (const w of this.waiting.values()) clearTimeout(w.timer);
  }

  /** FiguresSource: the primary always judges its workers' merged figures. */
  mode(): 'merged' {
    return 'merged';
  }

  merged(route: string): WindowFigures[] | undefined {
    return this.fresh()?.routes.get(route);
  }

  /** The workers' parity counts of a route, added up (their wire reports carry them). */
  mergedParity(route: string): ParityEvidence | undefined {
    return this.fresh()?.parity.get(route);
  }

  private fresh(): Merged | undefined {
    if (this.merge.dirty) this.merge = { dirty: false, last: mergeGuardSnapshots(this.snapshots(), Date.now(), this.maxAgeMs()) };
    return this.merge.last;
  }

  /** Each serving worker's last parity counts of a route (a ramp hold's sources). */
  parityOf(source: string, route: string): ParityEvidence | undefined {
    for (const m of this.members.values()) if (`worker-${m.pid}` === source) return m.snapshot?.routes[route]?.parity;
    return undefined;
  }

  /** The workers' figures as one replica's, for a fleet (the primary is the replica). */
  wire(): { routes: Record<string, WireRoute>; requests: number } {
    const snaps = this.snapshots();
    return { routes: combineWire(snaps, Date.now(), this.maxAgeMs()), requests: snaps.reduce((n, s) => n + s.requests, 0) };
  }

  private snapshots(): GuardSnapshot[] {
    return [...this.members.values()].flatMap((m) => (m.snapshot ? [m.snapshot] : []));
  }

  private maxAgeMs(): number {
    return 2 * this.intervalMs + 500;
  }
}
