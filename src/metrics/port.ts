// What the metrics read of the data plane, once per scrape: one process's own series, or the
// workers' merged by their primary (workers/merge.ts). Plain data apart from the raw series views;
// the registry lives in the control plane only, so a worker never loads prom-client.
import type { BackendName } from '../config/names.js';
import type { ParitySnapshot } from '../parity/figures.js';
import type { DiscoveryStatus, NodeStatus } from '../proxy/cluster.js';
import type { NodeEventCounts } from '../proxy/node-health.js';
import type { SeriesView } from '../stats/series.js';
import type { LoopDelaySnapshot } from '../stats/loop-delay.js';
import type { Stats } from '../stats/store.js';

export interface SeriesRow {
  route: string;
  backend: BackendName;
  forced: boolean;
  cumulative: SeriesView;
  window: SeriesView;
}

/** A process's own figures, sent by a worker with every answer about its data plane. */
export interface ProcessFigures {
  pid: number;
  uptimeSeconds: number;
  /** User + system CPU time since the process started (µs). */
  cpuMicros: number;
  rssBytes: number;
  heapUsedBytes: number;
}

export interface DataPlaneFigures {
  windowSeconds: number;
  series: SeriesRow[];
  /** Answers cutover gave without a backend: [route ('' when none matched), status, count]. */
  answered: Array<[string, number, number]>;
  inFlight: number;
  /** Each process's node list (each judges node health on its own traffic). */
  nodes: Array<Record<BackendName, NodeStatus[]>>;
  discovery: Array<Record<BackendName, DiscoveryStatus | null>>;
  events: NodeEventCounts;
  parity: Record<string, ParitySnapshot>;
  /** With workers: each worker's process figures. */
  workers?: Array<{ id: number; process: ProcessFigures }>;
  /** The event loop's delay of the data plane over the last 10-20 s (with workers: the worst worker's). */
  loopDelay?: LoopDelaySnapshot;
}

export type FiguresPort = () => DataPlaneFigures | Promise<DataPlaneFigures>;

export function processFigures(): ProcessFigures {
  const cpu = process.cpuUsage();
  const mem = process.memoryUsage();
  return { pid: process.pid, uptimeSeconds: Math.round(process.uptime()), cpuMicros: cpu.user + cpu.system, rssBytes: mem.rss, heapUsedBytes: mem.heapUsed };
}

/** The figures of a process's series alone (no nodes, no parity): the base of DataPlane.figures(). */
export function seriesFigures(stats: Stats, inFlight = 0): DataPlaneFigures {
  return { windowSeconds: stats.windowSeconds, series: stats.views(), answered: stats.answeredRows(), inFlight, nodes: [], discovery: [], events: { refreshes: {}, failures: {}, ejections: [] }, parity: {} };
}
