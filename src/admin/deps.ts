// What the admin API is given: a view of the data plane (one process, or the workers merged).
import type { RouteStats } from '../stats/store.js';

/** What the admin API shows of the data plane (one process, or the workers merged). */
export interface DataPlaneView {
  windowSeconds: number;
  inFlight: number;
  routes: Record<string, RouteStats>;
  nodes: unknown;
  /** Each backend's DNS discovery (state, last refresh, errors); null for a static cluster. */
  discovery?: unknown;
  /** With workers: each worker, its pid and what it served. */
  workers?: unknown;
}
