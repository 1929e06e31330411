// What operators see of node health: a warn line on every ejection (enforced or not) and every
// return, an ejection counter, a 0/1 gauge per node read at scrape time, and the node list for
// the status API. Nothing here runs per request; the clusters call back only on ejections.
import type { BackendName } from '../config/schema.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics/metrics.js';
import type { Cluster, NodeEvent, NodeStatus } from './cluster.js';

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
  const ejections = metrics.counter(
    'cutover_outlier_ejections_total',
    'Nodes found failing, by reason; enforced="false" when only detected (dry run, or maxEjectionPercent reached).',
    ['backend', 'node', 'reason', 'enforced'],
  );

  return (e) => {
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
