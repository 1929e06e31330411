// Fleet mode: every replica shares one control state in Redis and one guard. Each replica applies
// changes made anywhere (redis-store.ts), publishes its guard figures every interval, and the one
// holding the lease (lease.ts) judges the merged figures of every fresh replica. When Redis or the
// leader cannot be reached, a replica serves on its last state and its guard judges its own
// traffic, so protection never stops; status, metrics and logs say the fleet is degraded.
import { hostname } from 'node:os';
import type { Config } from '../config/schema.js';
import type { Control } from '../control/control.js';
import type { PersistedState } from '../control/persisted.js';
import { CutoverError } from '../errors.js';
import type { FiguresSource } from '../guard/runner.js';
import type { WindowFigures } from '../guard/rules.js';
import type { Logger } from '../log.js';
import type { ParityEvidence } from '../parity/source.js';
import type { Metrics } from '../metrics/metrics.js';
import type { FileStateStore, LoadResult } from '../state/file-store.js';
import { RedisStateStore } from '../state/redis-store.js';
import { Lease } from './lease.js';
import { totalsOfSnapshot } from '../ramp/evidence.js';
import type { SourceTotals } from '../ramp/runner.js';
import { mergeGuardSnapshots, type GuardSnapshot, type Merged, type RouteTotals, type WireRoute } from './snapshots.js';

/** What this replica publishes every guard interval: its guard figures and how much it served. */
export interface LocalFigures {
  routes: Record<string, WireRoute>;
  requests: number;
  totals?: Record<string, RouteTotals>;
}

export interface FleetDeps {
  config: Config;
  logger: Logger;
  /** After a state written by another replica is applied (a cluster's primary passes it on to its workers). */
  onRemote?: () => void;
  /** The replica's local copy of the last state it saw (state.file beside state.redis). */
  file?: FileStateStore<PersistedState>;
  /** This replica's name (default: replicaId()). */
  replica?: string;
  clock?: () => number;
}

/** This replica's name: CUTOVER_REPLICA_ID (e.g. the pod name), else host and pid. */
export function replicaId(): string {
  const env = process.env.CUTOVER_REPLICA_ID?.trim();
  return env !== undefined && env !== '' ? env : `${hostname()}-${process.pid}`;
}

export class Fleet implements FiguresSource {
  readonly replica: string;
  readonly store: RedisStateStore;
  readonly lease: Lease;
  private local: (() => LocalFigures) | undefined;
  private publishTimer: NodeJS.Timeout | undefined;
  private last: Merged | undefined;
  private snapshots: GuardSnapshot[] = [];
  private readonly clock: () => number;
  private readonly intervalMs: number;

  private control!: Control;

  constructor(private readonly deps: FleetDeps) {
    const r = deps.config.state.redis!;
    this.replica = deps.replica ?? replicaId();
    this.clock = deps.clock ?? Date.now;
    this.intervalMs = deps.config.guard.intervalMs;
    this.store = new RedisStateStore({
      url: process.env.CUTOVER_REDIS_URL ?? r.url!,
      key: r.key,
      logger: deps.logger,
      local: () => this.control.toPersisted(),
      apply: (s) => {
        this.control.applyRemote(s);
        this.copyToFile();
        deps.onRemote?.();
      },
      fence: () => (this.lease.leads() ? this.lease.view.value : undefined),
    });
    this.lease = new Lease(this.store.cmd, this.store.keys, this.replica, r.leaseTtlMs, deps.logger, this.clock);
  }

  /** The control state it keeps in step, and the metrics it reports to (both made after the store). */
  attach(control: Control, m: Metrics): void {
    this.control = control;
    control.replica = this.replica;
    m.gauge('cutover_fleet_store_up', '1 while the fleet store (Redis) answers, 0 while this replica serves on its last state.', [], (g) => g.set(this.store.healthy ? 1 : 0));
    m.gauge('cutover_fleet_leader', '1 while this replica leads the fleet guard.', [], (g) => g.set(this.lease.leads() ? 1 : 0));
    m.gauge('cutover_fleet_replicas', 'Replicas whose guard figures are fresh (reported within two guard intervals).', [], (g) => g.set(this.replicas().filter((x) => x.fresh).length));
    m.gauge('cutover_fleet_generation', 'The newest generation of the shared control state this replica has applied.', [], (g) => g.set(this.store.generation));
  }

  /**
   * Connect and read the shared state (before the proxy listens). Unreachable: a clear error
   * naming the field, unless state.redis.optional, when the replica starts on its local copy.
   */
  async connect(): Promise<LoadResult<PersistedState>> {
    const optional = this.deps.config.state.redis!.optional;
    try {
      await this.store.connect();
      const loaded = await this.store.readState();
      this.deps.logger.info({ store: this.store.name, replica: this.replica, generation: this.store.generation, found: loaded.kind }, 'fleet: shared state read');
      return loaded;
    } catch (err) {
      if ((err instanceof CutoverError && err.code === 'state_too_new') || !optional) {
        await this.store.close(); // refusing to start: stop reconnecting, so the process can exit
        throw err;
      }
      this.deps.logger.error({ err: (err as Error).message }, 'fleet: Redis unreachable at start; state.redis.optional is true, starting on the local copy, degraded');
      return this.deps.file?.load() ?? { kind: 'missing' };
    }
  }

  /**
   * Follow the other replicas, take part in the lease, publish figures every guard interval:
   * `local` gives them (one process: its guard's; a cluster's primary: its workers' merged).
   */
  async start(local: () => LocalFigures): Promise<void> {
    this.local = local;
    await this.store.follow().catch((err: Error) => this.deps.logger.error({ err: err.message }, 'fleet: cannot subscribe to changes yet; the generation check repairs it'));
    this.lease.start();
    this.publishTimer = setInterval(() => void this.publish(), this.intervalMs);
    this.publishTimer.unref();
  }

  mode(): 'local' | 'merged' | 'follower' {
    if (!this.store.healthy) return 'local';
    if (this.lease.leads()) return 'merged';
    return this.lease.follows() ? 'follower' : 'local';
  }

  merged(route: string): WindowFigures[] | undefined {
    return this.last?.routes.get(route);
  }

  mergedParity(route: string): ParityEvidence | undefined {
    return this.last?.parity.get(route);
  }

  /**
   * The leader's view of a ramping route: every fresh replica's cumulative totals (undefined when
   * this replica does not judge the merged figures).
   */
  totals(route: string): SourceTotals[] | undefined {
    if (this.mode() !== 'merged') return undefined;
    const now = this.clock();
    const maxAge = 2 * this.intervalMs + 500;
    return this.snapshots.flatMap((s) => {
      const t = s.totals?.[route];
      if (!t || now - s.at > maxAge) return [];
      const parity = s.routes[route]?.parity; // absent from older replicas and routes without a shadow
      return [{ source: s.replica, legacy: totalsOfSnapshot(t.legacy), candidate: totalsOfSnapshot(t.candidate), ...(parity ? { parity } : {}) }];
    });
  }

  /** Publish this replica's figures; the leader then reads and merges everyone's. */
  private async publish(): Promise<void> {
    if (!this.local) return;
    const { routes, requests, totals } = this.local();
    const snap: GuardSnapshot = { replica: this.replica, at: this.clock(), leader: this.lease.leads(), requests, routes, ...(totals ? { totals } : {}) };
    const cmd = this.store.cmd;
    try {
      await cmd.hset(this.store.keys.replicas, this.replica, JSON.stringify(snap));
      const all = await cmd.hgetall(this.store.keys.replicas);
      const now = this.clock();
      this.snapshots = Object.values(all).map((s) => JSON.parse(s) as GuardSnapshot);
      // Replicas gone for a minute are forgotten.
      const gone = this.snapshots.filter((s) => now - s.at > 60_000).map((s) => s.replica);
      if (gone.length > 0) await cmd.hdel(this.store.keys.replicas, ...gone);
      if (this.lease.leads()) this.last = mergeGuardSnapshots(this.snapshots, now, 2 * this.intervalMs + 500);
    } catch {
      // Redis unreachable: the guard judges local figures (mode()); the store logs the outage.
    }
  }

  private replicas() {
    const now = this.clock();
    const maxAge = 2 * this.intervalMs + 500;
    return this.snapshots.map((s) => ({ replica: s.replica, ageMs: now - s.at, fresh: now - s.at <= maxAge, requests: s.requests, leader: s.leader }));
  }

  /** What GET /api/v1/status shows under `fleet`. */
  status() {
    const degraded = !this.store.healthy || this.mode() === 'local';
    return {
      mode: 'redis',
      replica: this.replica,
      degraded,
      why: !this.store.healthy ? `Redis unreachable: ${this.store.lastError ?? 'not connected'}` : this.mode() === 'local' ? 'no leader yet: judging this replica\'s own traffic' : null,
      store: { name: this.store.name, healthy: this.store.healthy, lastError: this.store.lastError ?? null, generation: this.store.generation },
      leader: this.lease.view.leader?.split(':')[0] ?? null,
      leading: this.lease.leads(),
      guard: this.mode(),
      replicas: this.replicas(),
      staleSnapshots: this.last?.stale ?? [],
    };
  }

  /** The local copy of the shared state (state.file), best effort: Redis stays the truth. */
  copyToFile(): void {
    const file = this.deps.file;
    if (!file) return;
    file.save(this.control.toPersisted()).catch((err: Error) => this.deps.logger.warn({ err: err.message }, 'fleet: could not write the local copy of the state'));
  }

  async close(): Promise<void> {
    if (this.publishTimer) clearInterval(this.publishTimer);
    await this.lease.close();
    await this.store.cmd.hdel(this.store.keys.replicas, this.replica).catch(() => undefined);
    await this.store.close();
  }
}
