// The one owner of mutable control state: the split of every route and maintenance. The proxy
// holds references to the RouteSplit objects and reads them on every request; changes made
// here are seen by the next request without locks or lookups.
import type { Config } from '../config/schema.js';
import { newInterleave } from '../split/decide.js';
import type { RouteSplit } from '../split/route.js';

export interface Maintenance {
  enabled: boolean;
  retryAfterSeconds: number;
  message: string;
}

export class Control {
  private readonly splits = new Map<string, RouteSplit>();
  maintenance: Maintenance = { enabled: false, retryAfterSeconds: 30, message: 'Down for maintenance' };

  constructor(config: Config) {
    for (const r of config.routes) this.split(r.name, r.candidatePercent);
  }

  /** The split object of a route, created with `initialPercent` the first time it is asked for. */
  split(route: string, initialPercent = 0): RouteSplit {
    let s = this.splits.get(route);
    if (!s) {
      s = { percent: initialPercent, interleave: newInterleave() };
      this.splits.set(route, s);
    }
    return s;
  }

  routes(): string[] {
    return [...this.splits.keys()];
  }

  percent(route: string): number | undefined {
    return this.splits.get(route)?.percent;
  }
}
