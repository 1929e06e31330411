// DNS discovery for one cluster: on an interval (refreshSeconds, with jitter), resolve every
// upstream name (./resolver.ts, the I/O), decide the node set from the answers and the last known
// addresses (./node-set.ts, pure), and apply it to the cluster (Cluster.update: kept nodes keep
// their pools and outlier state, removed ones drain). A failed or empty lookup keeps the last
// known addresses and marks the cluster degraded, so the cluster is never emptied by DNS.
// Nothing here runs per request: the request path only reads the cluster's node list.
import { ConfigError } from '../errors.js';
import type { BackendName, DiscoveryConfig } from '../config/schema.js';
import type { Cluster, ClusterDiscovery, DiscoveryStatus, NodeEvent } from './cluster.js';
import { applyAnswers, hostOf, nodeSpecs, type Answer } from './node-set.js';
import { lookupError, type Resolve } from './resolver.js';

export interface DiscoveryOptions {
  resolve: Resolve;
  /** The dns.servers the resolver asks (undefined: the system's); a reload that changes them replaces the cluster. */
  servers?: readonly string[];
  /** Told about every refresh (logs and metrics). */
  onEvent?: (e: NodeEvent) => void;
  /** The addresses a previous cluster of the backend knew (a reload): served until the first answer. */
  known?: ReadonlyMap<string, readonly string[]>;
  /** Wall clock (ms) for the status's times; random in [0, 1) for the jitter. Tests inject them. */
  now?: () => number;
  random?: () => number;
}

export class DnsDiscovery implements ClusterDiscovery {
  private last: ReadonlyMap<string, readonly string[]> = new Map();
  private state: DiscoveryStatus['state'] = 'ok';
  private errors: string[] = [];
  private lastRefresh = 0;
  private lastSuccess = 0;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly now: () => number;
  private readonly random: () => number;
  /** The first refresh, done: what failed in it (empty when every name resolved). */
  readonly first: Promise<Array<{ upstream: string; error: string }>>;

  constructor(
    private readonly cluster: Cluster,
    private config: DiscoveryConfig,
    private readonly opts: DiscoveryOptions,
  ) {
    this.now = opts.now ?? Date.now;
    this.random = opts.random ?? Math.random;
    if (opts.known) {
      this.last = new Map([...opts.known].filter(([u]) => cluster.config.upstreams.includes(u)));
      if (this.last.size > 0) cluster.update(nodeSpecs(cluster.config.upstreams, this.last), 0);
    }
    this.first = this.refresh();
  }

  get backend(): BackendName {
    return this.cluster.name;
  }

  get servers(): readonly string[] | undefined {
    return this.opts.servers;
  }

  /** A reload changed refreshSeconds or jitter: the next wait follows them. */
  configure(config: DiscoveryConfig): void {
    this.config = config;
  }

  private async refresh(): Promise<Array<{ upstream: string; error: string }>> {
    const upstreams = this.cluster.config.upstreams;
    const answers = await Promise.all(
      upstreams.map(async (upstream): Promise<Answer> => {
        const host = hostOf(upstream);
        try {
          return { upstream, addresses: await this.opts.resolve(host) };
        } catch (err) {
          return { upstream, error: lookupError(err, host) };
        }
      }),
    );
    if (this.closed) return [];
    const { byUpstream, failed } = applyAnswers(this.last, answers);
    const at = this.now();
    this.last = byUpstream;
    const { added, removed } = this.cluster.update(nodeSpecs(upstreams, byUpstream), at);
    const state = failed.length > 0 ? 'degraded' : 'ok';
    // The first refresh reports a failure as a change too: a cluster that starts degraded says so.
    const changed = state !== this.state || (this.lastRefresh === 0 && state === 'degraded');
    this.state = state;
    this.errors = failed.map((f) => `${f.upstream}: ${f.error}`);
    this.lastRefresh = at;
    if (state === 'ok') this.lastSuccess = at;
    this.opts.onEvent?.({ type: 'refreshed', backend: this.cluster.name, state, changed, errors: this.errors, added, removed, nodes: this.cluster.nodes.length });
    this.schedule();
    return failed;
  }

  private schedule(): void {
    if (this.closed) return;
    const waitMs = this.config.refreshSeconds * 1000 * (1 + this.random() * this.config.jitter);
    this.timer = setTimeout(() => void this.refresh().catch(() => this.schedule()), waitMs);
    this.timer.unref();
  }

  status(): DiscoveryStatus {
    const iso = (ms: number) => (ms === 0 ? null : new Date(ms).toISOString());
    return { state: this.state, refreshSeconds: this.config.refreshSeconds, lastRefresh: iso(this.lastRefresh), lastSuccess: iso(this.lastSuccess), errors: this.errors };
  }

  known(): ReadonlyMap<string, readonly string[]> {
    return this.last;
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
  }
}

/** Start discovery on `cluster` when its backend has one; the cluster closes it with itself. */
export function attachDiscovery(cluster: Cluster, opts: DiscoveryOptions): DnsDiscovery | undefined {
  const config = cluster.config.discovery;
  if (!config) return undefined;
  const d = new DnsDiscovery(cluster, config, opts);
  cluster.discovery = d;
  return d;
}

/**
 * Wait for the first refresh of every discovering cluster. A name that did not resolve refuses
 * the start (ConfigError naming the field: exit 2), unless its backend's discovery is optional:
 * then the cluster starts degraded (on the name itself) and retries every refresh.
 */
export async function discoveryReady(clusters: Readonly<Record<BackendName, Cluster>>, source = 'config'): Promise<void> {
  const issues: string[] = [];
  for (const cluster of Object.values(clusters)) {
    const d = cluster.discovery;
    if (!(d instanceof DnsDiscovery)) continue;
    const failed = await d.first;
    if (cluster.config.discovery?.optional) continue;
    for (const f of failed) {
      const i = cluster.config.upstreams.indexOf(f.upstream);
      issues.push(
        `backends.${cluster.name}.upstreams[${i}]: must resolve to at least one address (${f.error}); set backends.${cluster.name}.discovery.optional: true to start degraded and retry`,
      );
    }
  }
  if (issues.length > 0) throw new ConfigError(source, issues);
}
