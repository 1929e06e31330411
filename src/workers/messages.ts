// The IPC between a cluster's primary and its workers (node:cluster's channel, JSON). Every message
// carries `cutover` as its kind, so that other users of the channel (node's own internal
// messages) are never mistaken for ours. Types only: a worker loads nothing from here.
import type { AddressInfo } from 'node:net';
import type { PersistedState } from '../control/persisted.js';
import type { DataPlaneReport, DataPlaneSpec, Served } from '../data-plane.js';
import type { GuardSnapshot, RouteTotals } from '../fleet/snapshots.js';
import type { ProcessFigures } from '../metrics/port.js';
import type { CaseLine } from '../parity/cases.js';

export type { Served };

/** Primary → worker. */
export type ToWorker =
  /** The first message: serve with this spec (compiled by the primary) and this control state. */
  | { cutover: 'init'; spec: DataPlaneSpec; configFile?: string; state: PersistedState }
  /** The control state after a change (split, maintenance, latch): applied for the next request. */
  | { cutover: 'state'; state: PersistedState }
  /** A question the worker answers with `answer` and the same id. */
  | { cutover: 'ask'; id: number; question: Question }
  /**
   * 'retire' (a restart; the default): stop accepting, serve what comes on open connections for
   * drainMs with `Connection: close`, then finish within graceMs and exit. 'shutdown' (SIGTERM):
   * keep accepting for drainMs with `Connection: close`, then the same.
   */
  | { cutover: 'drain'; drainMs: number; graceMs: number; mode?: 'retire' | 'shutdown' };

export type Question =
  /** Its data plane: status view, counts for the metrics, parity, its process. */
  | { kind: 'data-plane' }
  | { kind: 'in-flight' }
  /** A reloaded config's data-plane half (the primary loaded, checked and compiled it). */
  | { kind: 'spec'; spec: DataPlaneSpec }
  /** The cumulative totals of these routes (the primary's ramp holds, every guard interval while a ramp runs). */
  | { kind: 'totals'; routes: string[] }
  /** POST /api/v1/parity/reset: its parity figures back to zero. */
  | { kind: 'parity-reset' }
  /** GET /api/v1/parity/cases: its last sampled requests (undefined route: every route's). */
  | { kind: 'parity-cases'; route?: string; limit?: number };

export interface Answers {
  'data-plane': DataPlaneReport & { process: ProcessFigures };
  'in-flight': number;
  totals: Record<string, RouteTotals>;
  spec: null;
  'parity-reset': string[];
  'parity-cases': CaseLine[] | null;
}

/** Worker → primary. */
export type FromWorker =
  /** Listening for messages: send `init`. */
  | { cutover: 'hello' }
  /** Listening (on the primary's shared socket): it may be sent connections. */
  | { cutover: 'ready'; address: AddressInfo }
  /** Every guard interval: its guard figures, what it served, what is in flight. */
  | { cutover: 'figures'; snapshot: GuardSnapshot; served: Served; inFlight: number }
  | { cutover: 'answer'; id: number; value?: unknown; error?: string };

export function isFromWorker(m: unknown): m is FromWorker {
  return typeof m === 'object' && m !== null && typeof (m as { cutover?: unknown }).cutover === 'string';
}

export function isToWorker(m: unknown): m is ToWorker {
  return typeof m === 'object' && m !== null && typeof (m as { cutover?: unknown }).cutover === 'string';
}
