// The parity figures of every route in this process, and the shadow state that must outlive a
// config reload (the sampling interleave, the copies in flight): one entry per route name, kept
// when a reload builds a new routing table. Read by the admin API and the metrics; written only
// by proxy/shadow.ts. No I/O.
import { newInterleave, type Interleave } from '../split/decide.js';
import { ParityFigures, type FiguresOptions, type ParitySnapshot } from './figures.js';
import { NoiseTable } from './noise.js';
import { CaseLog, type CaseLine } from './cases.js';

export interface RouteParity {
  readonly figures: ParityFigures;
  /** The shadow's own sampling state (never the split's). */
  readonly interleave: Interleave;
  /** Shadow copies open right now (their bodies held in memory): maxInFlight bounds its size. */
  readonly open: Set<{ cancel(): void }>;
  /** Noise learned from two legacy answers to one request, per endpoint (excluded from mismatches). */
  readonly noise: NoiseTable;
  /** Which shadowed requests also get a noise copy (noise.percent). */
  readonly noiseInterleave: Interleave;
  /** The last sampled requests, for GET /api/v1/parity/cases. */
  readonly cases: CaseLog;
}

export class ParityStore {
  private readonly routes = new Map<string, RouteParity>();

  constructor(private readonly now: () => number = Date.now) {}

  /** The entry of a route, created the first time (a reload keeps it, figures and all). */
  route(name: string, opts: FiguresOptions = {}): RouteParity {
    let r = this.routes.get(name);
    if (!r) this.routes.set(name, (r = { figures: new ParityFigures(opts, this.now), interleave: newInterleave(), open: new Set(), noise: new NoiseTable(), noiseInterleave: newInterleave(), cases: new CaseLog(name, opts.redact) }));
    return r;
  }

  /** Routes with a shadow (now or since the start), by name. */
  names(): string[] {
    return [...this.routes.keys()];
  }

  /** GET /api/v1/parity: every route's figures. */
  snapshot(): Record<string, ParitySnapshot> {
    const out: Record<string, ParitySnapshot> = {};
    for (const [name, r] of this.routes) out[name] = r.figures.snapshot();
    return out;
  }

  /**
   * Shutdown: end every open shadow copy now, so that closing the pools does not wait for a shadow
   * that hangs (they are not counted: nothing came of them).
   */
  cancelAll(): void {
    for (const r of this.routes.values()) for (const p of [...r.open]) p.cancel();
  }

  /**
   * POST /api/v1/parity/reset: every route's figures back to zero (copies in flight still finish),
   * learned noise too, so that what the API lists as noise is what the comparison leaves out.
   * Returns the routes reset.
   */
  reset(): string[] {
    for (const r of this.routes.values()) {
      r.figures.reset();
      r.noise.clear();
    }
    return this.names();
  }

  /** GET /api/v1/parity/cases: the last sampled requests of a route (or of every route); undefined for a route without a shadow. */
  cases(route?: string, limit?: number): CaseLine[] | undefined {
    if (route !== undefined && !this.routes.has(route)) return undefined;
    return (route === undefined ? this.names() : [route]).flatMap((n) => this.routes.get(n)!.cases.lines(limit));
  }
}
