// What the data plane keeps of node health for operators: a warn line on every ejection (enforced
// or not) and every return, a line when discovery degrades, recovers or changes the node set, and
// the events counted as plain data (metrics/nodes.ts exports them; with workers the primary adds
// up every worker's). The node list and discovery status for the status API are read on demand.
// Nothing here runs per request; the clusters call back only on ejections and refreshes.
import type { BackendName } from '../config/names.js';
import type { LogSink } from '../log-lite.js';
import type { Cluster, DiscoveryStatus, NodeEvent, NodeStatus } from './cluster.js';

/** Node events counted since the process started: plain data that adds up across processes. */
export interface NodeEventCounts {
  refreshes: Partial<Record<BackendName, number>>;
  failures: Partial<Record<BackendName, number>>;
  /** By backend, node, reason and whether it was enforced. */
  ejections: Array<{ backend: BackendName; node: string; reason: string; enforced: boolean; count: number }>;
}

export const noNodeEvents = (): NodeEventCounts => ({ refreshes: {}, failures: {}, ejections: [] });

/** Add up the counts of several processes. */
export function addNodeEvents(all: readonly NodeEventCounts[]): NodeEventCounts {
  const out = noNodeEvents();
  const ejections = new Map<string, NodeEventCounts['ejections'][number]>();
  for (const c of all) {
    for (const [b, n] of Object.entries(c.refreshes)) out.refreshes[b as BackendName] = (out.refreshes[b as BackendName] ?? 0) + (n ?? 0);
    for (const [b, n] of Object.entries(c.failures)) out.failures[b as BackendName] = (out.failures[b as BackendName] ?? 0) + (n ?? 0);
    for (const e of c.ejections) {
      const key = `${e.backend}\0${e.node}\0${e.reason}\0${e.enforced}`;
      const got = ejections.get(key);
      if (got) got.count += e.count;
      else ejections.set(key, { ...e });
    }
  }
  out.ejections = [...ejections.values()];
  return out;
}

/** The listener the clusters report to: it logs and counts into `counts`. */
export function nodeEventListener(logger: LogSink, counts: NodeEventCounts): (e: NodeEvent) => void {
  return (e) => {
    if (e.type === 'refreshed') {
      counts.refreshes[e.backend] = (counts.refreshes[e.backend] ?? 0) + 1;
      if (e.errors.length > 0) counts.failures[e.backend] = (counts.failures[e.backend] ?? 0) + e.errors.length;
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
    const row = counts.ejections.find((r) => r.backend === e.backend && r.node === e.origin && r.reason === e.reason && r.enforced === e.enforced);
    if (row) row.count++;
    else counts.ejections.push({ backend: e.backend, node: e.origin, reason: e.reason, enforced: e.enforced, count: 1 });
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
