// Node health and discovery as metrics, read at scrape time from the data plane's figures: a
// 0/1 gauge per node and nodes per state (with workers: the worst any worker sees, since each
// judges node health on its own traffic), discovery degraded, and the events counted by the data
// plane (proxy/node-health.ts; with workers, every worker's added up).
import type { Counter, Gauge } from 'prom-client';
import type { DataPlaneFigures } from './port.js';

type Read = () => Promise<DataPlaneFigures>;
type CounterFactory = (name: string, help: string, labelNames: string[], collect?: (c: Counter<string>) => void | Promise<void>) => Counter<string>;
type GaugeFactory = (name: string, help: string, labelNames: string[], collect?: (g: Gauge<string>) => void | Promise<void>) => Gauge<string>;

export function nodeMetrics(read: Read, counter: CounterFactory, gauge: GaugeFactory): void {
  gauge('cutover_upstream_node_ejected', '1 while the outlier detector keeps the node out of the round robin.', ['backend', 'node'], async (g) => {
    const f = await read();
    g.reset();
    // With workers: 1 while any worker keeps it out.
    const out = new Map<string, { backend: string; node: string; value: number }>();
    for (const lists of f.nodes) {
      for (const [backend, nodes] of Object.entries(lists)) {
        for (const n of nodes) {
          const key = `${backend}\0${n.origin}`;
          const v = n.state === 'ejected' ? 1 : 0;
          out.set(key, { backend, node: n.origin, value: Math.max(v, out.get(key)?.value ?? 0) });
        }
      }
    }
    for (const r of out.values()) g.set({ backend: r.backend, node: r.node }, r.value);
  });
  gauge('cutover_upstream_nodes', 'Nodes of each cluster by state (serving or ejected); with discovery, one per address.', ['backend', 'state'], async (g) => {
    const f = await read();
    g.reset();
    for (const backend of ['legacy', 'candidate'] as const) {
      const ejected = Math.max(0, ...f.nodes.map((l) => l[backend].filter((n) => n.state === 'ejected').length));
      const total = Math.max(0, ...f.nodes.map((l) => l[backend].length));
      g.set({ backend, state: 'serving' }, total - ejected);
      g.set({ backend, state: 'ejected' }, ejected);
    }
  });
  gauge('cutover_discovery_degraded', '1 while a lookup of the cluster failed or came back empty and its last known addresses serve (clusters with discovery only).', ['backend'], async (g) => {
    const f = await read();
    g.reset();
    const degraded = new Map<string, number>();
    for (const d of f.discovery) for (const [backend, s] of Object.entries(d)) if (s) degraded.set(backend, Math.max(degraded.get(backend) ?? 0, s.state === 'degraded' ? 1 : 0));
    for (const [backend, v] of degraded) g.set({ backend }, v);
  });
  counter('cutover_discovery_refreshes_total', 'DNS refreshes of the cluster (every name resolved again).', ['backend'], async (c) => {
    const { events } = await read();
    c.reset();
    for (const [backend, n] of Object.entries(events.refreshes)) c.inc({ backend }, n ?? 0);
  });
  counter('cutover_discovery_failures_total', 'Lookups of an upstream name that failed or came back without an address (the last known addresses kept).', ['backend'], async (c) => {
    const { events } = await read();
    c.reset();
    for (const [backend, n] of Object.entries(events.failures)) c.inc({ backend }, n ?? 0);
  });
  counter(
    'cutover_outlier_ejections_total',
    'Nodes found failing, by reason; enforced="false" when only detected (dry run, or maxEjectionPercent reached).',
    ['backend', 'node', 'reason', 'enforced'],
    async (c) => {
      const { events } = await read();
      c.reset();
      for (const e of events.ejections) c.inc({ backend: e.backend, node: e.node, reason: e.reason, enforced: String(e.enforced) }, e.count);
    },
  );
}
