// What the guard runner is given: where its figures come from (this process, the merged figures
// of every worker or replica, or nobody's when another replica leads), the parity of each route,
// control, logs and metrics, the clock, and the ramps' onBreach.
import type { Control } from '../control/control.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics/metrics.js';
import type { ParityEvidence, ParitySource } from '../parity/source.js';
import type { Stats } from '../stats/store.js';
import type { WindowFigures } from './rules.js';

/**
 * Where the guard's figures come from, and whether this process judges at all: its own traffic
 * ('local': one process, or a replica that cannot reach the fleet), the merged figures of every
 * replica or worker ('merged': the fleet's leader, a cluster's primary), or not at all
 * ('follower': another replica leads and its reverts reach this one through the store).
 */
export interface FiguresSource {
  mode(): 'local' | 'merged' | 'follower';
  /** The merged windows of a route (undefined: no fresh snapshot holds it). */
  merged(route: string): WindowFigures[] | undefined;
  /** The merged parity counts of a route (undefined: no fresh snapshot carries any). */
  mergedParity?(route: string): ParityEvidence | undefined;
}

export interface GuardDeps {
  stats: Stats;
  source?: FiguresSource;
  /**
   * This process's parity per route (its shadow taps), judged by maxMismatchRate on routes that
   * shadow; in 'merged' mode the source's mergedParity is judged instead.
   */
  parity?: ParitySource;
  control: Control;
  logger: Logger;
  metrics: Metrics;
  /** Wall-clock ms (verdict times, history). */
  clock?: () => number;
  /**
   * The ramps' onBreach for a route, handed to the plan: a ramp configured with onBreach: pause
   * holds its step for a person instead of the revert (ramp/policy.ts breachAction).
   */
  breach?: { breachAction(route: string): 'revert' | 'pause' };
}
