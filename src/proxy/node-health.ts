// What operators see of node health: a warn line on every ejection (enforced or not) and every
// return, an ejection counter, a 0/1 gauge per node read at scrape time, and the node list for
// the status API; and of discovery: a log line when a cluster becomes degraded or recovers and
// when its node set changes, the refreshes and failed lookups counted, nodes per state.
// Nothing here runs per request; the clusters call back only on ejections and refreshes.
import type { BackendName } from '../config/schema.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics/metrics.js';
import type { Cluster, DiscoveryStatus, NodeEvent, NodeStatus } from './cluster.js';

export interface NodeHealthDeps {
  logger: Logger;
  metrics: Metrics;
  /** The clusters serving now (a reload may replace them). */
  clusters: () => Readonly<Record<BackendName, Cluster>>;
}

/** Registers the node metrics; returns the listener the clusters report ejections and returns to. */
export function nodeHealthReporter(deps: NodeHealthDeps): (e: NodeEvent) => void {
  const { logger, metrics } = deps;
  metrics.gauge('cutover_upstream_node_ejected', '1 while the outlier detector keeps the node out of the round robin.', ['backend', 'node'], (g) => {
    g.reset();
    for (const [backend, nodes] of Object.entries(nodeHealth(deps.clusters()))) {
      for (const n of nodes) g.set({ backend, node: n.origin }, n.state === 'ejected' ? 1 : 0);
    }
  }, 'max'); // with workers: 1 while any worker keeps it out (each judges its own traffic)
  metrics.gauge('cutover_upstream_nodes', 'Nodes of each cluster by state (serving or ejected); with discovery, one per address.', ['backend', 'state'], (g) => {
    g.reset();
    for (const [backend, nodes] of Object.entries(nodeHealth(deps.clusters()))) {
      g.set({ backend, state: 'serving' }, nodes.filter((n) => n.state === 'serving').length);
      g.set({ backend, state: 'ejected' }, nodes.filter((n) => n.state === 'ejected').length);
    }
  }, 'max');
  metrics.gauge('cutover_discovery_degraded', '1 while a lookup of the cluster failed or came back empty and its last known addresses serve (clusters with discovery only).', ['backend'], (g) => {
    g.reset();
    for (const [backend, d] of Object.entries(clusterDiscovery(deps.clusters()))) if (d) g.set({ backend }, d.state === 'degraded' ? 1 : 0);
  }, 'max');
  const refreshes = metrics.counter('cutover_discovery_refreshes_total', 'DNS refreshes of the cluster (every name resolved again).', ['backend']);
  const failures = metrics.counter('cutover_discovery_failures_total', 'Lookups of an upstream name that failed or came back without an address (the last known addresses kept).', ['backend']);
  const ejections = metrics.counter(
    'cutover_outlier_ejections_total',
    'Nodes found failing, by reason; enforced="false" when only detected (dry run, or maxEjectionPercent reached).',
    ['backend', 'node', 'reason', 'enforced'],
  );

  return (e) => {
    if (e.type === 'refreshed') {
      refreshes.inc({ backend: e.backend });
      if (e.errors.length > 0) failures.inc({ backend: e.backend }, e.errors.length);
      // Once per state change, not per refresh: a long outage is one line, its end another.
      if (e.changed && e.state === 'degraded') logger.warn({ backend: e.backend, errors: e.errors, nodes: e.nodes }, `discovery of ${e.backend} degraded: serving its last known ${e.nodes} nodes`);
      else if (e.changed) logger.info({ backend: e.backend, nodes: e.nodes }, `discovery of ${e.backend} recovered: every name resolves`);
      if (e.added.length > 0 || e.removed.length > 0) logger.info({ backend: e.backend, added: e.added, removed: e.removed, nodes: e.nodes }, `nodes of ${e.backend} changed`);
      return;
    }
    const at = { backend: e.backend, node: e.origin };
    if (e.type === 'returned') {
      logger.warn({ ...at, ejections: e.ejections }, `node ${e.origin} of ${e.backend} is back in the round robin after its ejection`);
      return;
    }
    ejections.inc({ ...at, reason: e.reason, enforced: String(e.enforced) });
    const evidence = { ...at, reason: e.reason, last: e.last, ejections: e.ejections, durationMs: e.durationMs };
    if (e.enforced) {
      logger.warn(evidence, `node ${e.origin} of ${e.backend} ejected for ${e.durationMs} ms: ${e.reason} (last: ${e.last})`);
    } else {
      const why = e.notEnforced === 'dry-run' ? 'outlierDetection.enforcing is false' : 'maxEjectionPercent of the nodes are already out (or the cluster has one node)';
      logger.warn({ ...evidence, notEnforced: e.notEnforced }, `node ${e.origin} of ${e.backend} would be ejected (${e.reason}, last: ${e.last}), not enforced: ${why}`);
    }
  };
}

/** The nodes of each backend with their state, for GET /api/v1/status. */
export function nodeHealth(clusters: Readonly<Record<BackendName, Cluster>>): Record<BackendName, NodeStatus[]> {
  return { legacy: clusters.legacy.health(), candidate: clusters.candidate.health() };
}

/** Each backend's discovery status; null for a static cluster. */
export function clusterDiscovery(clusters: Readonly<Record<BackendName, Cluster>>): Record<BackendName, DiscoveryStatus | null> {
  return { legacy: clusters.legacy.discovery?.status() ?? null, candidate: clusters.candidate.discovery?.status() ?? null };
}
