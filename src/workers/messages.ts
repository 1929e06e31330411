// The IPC between a cluster's primary and its workers (node:cluster's channel, JSON). Every message
// carries `cutover` as its kind, so that other users of the channel (prom-client's cluster
// support, node's own internal messages) are never mistaken for ours.
import type { AddressInfo } from 'node:net';
import type { MetricObjectWithValues, MetricValue } from 'prom-client';
import type { DataPlaneView } from '../admin/deps.js';
import type { Config } from '../config/schema.js';
import type { PersistedState } from '../control/persisted.js';
import type { GuardSnapshot } from '../fleet/snapshots.js';

/** Primary → worker. */
export type ToWorker =
  /** The first message: serve with this config and this control state. */
  | { cutover: 'init'; config: Config; configFile?: string; state: PersistedState }
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
  | { kind: 'data-plane' }
  | { kind: 'metrics' }
  | { kind: 'in-flight' }
  /** A reloaded config's data-plane half (the primary loaded and checked it). */
  | { kind: 'config'; config: Config };

export interface Answers {
  'data-plane': DataPlaneView & { served: Served };
  metrics: Array<MetricObjectWithValues<MetricValue<string>>>;
  'in-flight': number;
  config: null;
}

/** Requests the split sent to each backend since the worker started. */
export type Served = { legacy: number; candidate: number };

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
