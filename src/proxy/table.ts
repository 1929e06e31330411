// What the data plane needs from the config, compiled once: the route list, the two clusters and
// the header names. A reload builds a new table and swaps it in; in-flight requests keep theirs.
import type { Config } from '../config/schema.js';
import { BACKENDS, type BackendName } from '../config/names.js';
import type { Control } from '../control/control.js';
import { compileRoute } from '../split/route.js';
import type { Stats } from '../stats/store.js';
import { Cluster, type NodeEvent } from './cluster.js';
import { attachDiscovery, DnsDiscovery } from './discovery.js';
import { createResolver, type Resolve } from './resolver.js';
import type { OverrideRule } from './override.js';
import type { ParityStore } from '../parity/store.js';
import { withShadow, type ProxyRoute } from './shadow.js';

export interface RoutingTable {
  readonly routes: readonly ProxyRoute[];
  readonly clusters: Readonly<Record<BackendName, Cluster>>;
  /** The override header and who may use it; undefined when it is off. */
  readonly override: OverrideRule | undefined;
  readonly servedByHeader: string | false;
  /** How long a client may leave a response unread before its connection is closed (ms). */
  readonly clientSendMs: number;
  readonly accessLog: boolean;
}

/** What a table is built with besides the config: who may use the override header, who hears of node ejections. */
export interface TableOptions {
  override?: OverrideRule;
  onNodeEvent?: (e: NodeEvent) => void;
  /** How discovery resolves names (tests inject one); default: config.dns.servers, else the system's. */
  resolve?: Resolve;
  /** Where the routes' shadow taps count (parity); without it no route shadows. */
  parity?: ParityStore;
}

export function buildTable(config: Config, control: Control, stats: Stats, previous?: RoutingTable, opts: TableOptions = {}): RoutingTable {
  const { override, onNodeEvent } = opts;
  const routes = config.routes.map((r) => withShadow(compileRoute(r, control.split(r.name, r.candidatePercent), stats.route(r.name)), r, opts.parity, control));
  const clusters = {} as Record<BackendName, Cluster>;
  for (const b of BACKENDS) {
    const old = previous?.clusters[b];
    // Keep the pools (and their open keep-alive connections) when the cluster did not change.
    if (old && sameCluster(old, config.backends[b]) && sameDiscovery(old, config)) {
      old.responseMs = config.backends[b].timeouts.responseMs;
      old.outlier.configure(config.backends[b].outlierDetection);
      const d = config.backends[b].discovery;
      if (d && old.discovery instanceof DnsDiscovery) old.discovery.configure(d);
      clusters[b] = old;
    } else {
      clusters[b] = new Cluster(b, config.backends[b], undefined, onNodeEvent);
      // A replaced cluster's last known addresses serve the new one until its first answer.
      attachDiscovery(clusters[b], { resolve: opts.resolve ?? createResolver(config.dns?.servers), servers: config.dns?.servers, onEvent: onNodeEvent, known: old?.discovery?.known() });
    }
  }
  return {
    routes,
    clusters,
    override,
    servedByHeader: config.servedByHeader,
    clientSendMs: config.listen.clientSendTimeoutMs,
    accessLog: config.log.accessLog,
  };
}

function sameCluster(c: Cluster, b: Config['backends']['legacy']): boolean {
  return (
    c.config.timeouts.connectMs === b.timeouts.connectMs &&
    c.config.upstreams.length === b.upstreams.length &&
    c.config.upstreams.every((u, i) => u === b.upstreams[i])
  );
}

/** Discovery on or off alike, and the same resolver (refreshSeconds and jitter apply in place). */
function sameDiscovery(c: Cluster, config: Config): boolean {
  const b = config.backends[c.name];
  if ((c.config.discovery === undefined) !== (b.discovery === undefined)) return false;
  if (!(c.discovery instanceof DnsDiscovery)) return true;
  return (c.discovery.servers ?? []).join(',') === (config.dns?.servers ?? []).join(',');
}

/** Clusters of `old` that `next` no longer uses. */
export function retiredClusters(old: RoutingTable, next: RoutingTable): Cluster[] {
  return BACKENDS.map((b) => old.clusters[b]).filter((c) => c !== next.clusters.legacy && c !== next.clusters.candidate);
}
