// Noise learning, Diffy's idea without a second deployment: the same request sent to legacy
// twice; whatever differs between the two legacy answers (a timestamp, a request id) is noise
// for that endpoint, and never counts as a mismatch between legacy and the candidate. Pure.
import { compareResponses, type CompareRules, type ParityResponse } from './compare.js';
import { templateOf } from './pointer.js';

/**
 * The paths in which two legacy answers to one request differ, as noise patterns (array indices
 * as `*`). The status and a byte-compared `body` are never noise: legacy answering 200 then 500,
 * or two different documents, is flakiness to see, not something to stop looking at.
 */
export function noiseBetween(first: ParityResponse, second: ParityResponse, rules: CompareRules = {}): string[] {
  // Noise already known is not passed in: each observation counts every differing path. (Only
  // the first MAX_DIFFERENCES paths are seen; as templates they usually cover the rest.)
  const r = compareResponses(first, second, rules);
  if (r.match) return [];
  const out = new Set<string>();
  for (const d of r.differences) {
    if (d.path === 'status' || d.path === 'body' || d.path === '') continue;
    out.add(templateOf(d.path));
  }
  return [...out];
}

export interface NoiseOptions {
  /** Noise paths kept per endpoint; the rest are not learned (a document that differs everywhere is not noise to learn). */
  maxPaths?: number;
  /** Observations of a path before it counts as noise (default 1: one differing pair is enough). */
  minCount?: number;
}

/** Learned noise of one route: per endpoint, each noise path with how often it was seen. */
/** An endpoint's first pairs always get a noise copy, whatever noise.percent says (see warming). */
export const NOISE_WARMUP_PAIRS = 10;

export class NoiseTable {
  private readonly byEndpoint = new Map<string, Map<string, number>>();
  /** Noise copies started per endpoint (endpoints are already capped by the figures). */
  private readonly started = new Map<string, number>();
  private readonly maxPaths: number;
  private readonly minCount: number;

  constructor(opts: NoiseOptions = {}) {
    this.maxPaths = opts.maxPaths ?? 100;
    this.minCount = opts.minCount ?? 1;
  }

  /**
   * Whether a sampled request of this endpoint gets a noise copy regardless of noise.percent: its
   * first NOISE_WARMUP_PAIRS do, so that what two legacy answers disagree on (a timestamp, an id)
   * is learned before a low noise.percent would get round to it, and never counts as a mismatch
   * in the meantime (a pair with a noise copy is compared only after it taught the table).
   */
  warming(endpoint: string): boolean {
    const n = this.started.get(endpoint) ?? 0;
    if (n >= NOISE_WARMUP_PAIRS) return false;
    this.started.set(endpoint, n + 1);
    return true;
  }

  /** Two legacy answers to the same request were compared: learn what differed. Returns the paths. */
  learn(endpoint: string, first: ParityResponse, second: ParityResponse, rules: CompareRules = {}): string[] {
    const paths = noiseBetween(first, second, rules);
    this.add(endpoint, paths);
    return paths;
  }

  add(endpoint: string, paths: readonly string[], count = 1): void {
    if (paths.length === 0) return;
    let m = this.byEndpoint.get(endpoint);
    if (!m) this.byEndpoint.set(endpoint, (m = new Map()));
    for (const p of paths) {
      const seen = m.get(p);
      if (seen !== undefined) m.set(p, seen + count);
      else if (m.size < this.maxPaths) m.set(p, count);
    }
  }

  /** The noise patterns of an endpoint, for compareResponses. */
  patterns(endpoint: string): string[] {
    const m = this.byEndpoint.get(endpoint);
    if (!m) return [];
    const out: string[] = [];
    for (const [p, n] of m) if (n >= this.minCount) out.push(p);
    return out;
  }

  /** Plain data: endpoint → path → observations. */
  snapshot(): Record<string, Record<string, number>> {
    const out: Record<string, Record<string, number>> = {};
    for (const [e, m] of this.byEndpoint) out[e] = Object.fromEntries(m);
    return out;
  }

  /** Noise learned elsewhere (another worker, a replica) added in. */
  merge(s: Record<string, Record<string, number>>): void {
    for (const [e, paths] of Object.entries(s)) for (const [p, n] of Object.entries(paths)) this.add(e, [p], n);
  }

  clear(): void {
    this.started.clear();
    this.byEndpoint.clear();
  }
}
