// Parity figures of one route: what the comparisons found, overall and per endpoint, the last
// mismatches as samples (redacted), and the paired latency (candidate minus legacy on the same
// requests). Recorded in each process; snapshots are plain data and merge exactly, like
// stats/snapshot.ts, so that workers and a fleet are judged on their sum. No I/O; the clock
// (for the samples' times) is injected.
import hdr from 'hdr-histogram-js';
import type { Histogram } from 'hdr-histogram-js';
import { ERROR_KINDS, newHistogram, type ErrorKind } from '../stats/series.js';
import type { CompareResult, Difference } from './compare.js';
import { EndpointKeys, OTHER_ENDPOINT } from './endpoint.js';
import { cut, parsePointer, templateOf } from './pointer.js';

export interface ParityCounts {
  /** Pairs of complete responses compared. */
  compared: number;
  matched: number;
  /** Compared and different, learned noise excluded. */
  mismatched: number;
  /** Not copied: the request body was over maxBodyBytes (or the method is not shadowed). */
  skipped: number;
  /** Not copied: maxInFlight shadow requests were already open. */
  dropped: number;
  /** The shadow (or the noise copy) failed before a complete response. */
  errors: Record<ErrorKind, number>;
}

export interface EndpointFigures extends ParityCounts {
  /** Differing path template (indices as `*`) → mismatches it appeared in. */
  differences: Record<string, number>;
  /** Learned noise path → times it was seen between two legacy answers. */
  noise: Record<string, number>;
}

export interface MismatchSample {
  /** When it was recorded (the injected clock, ms). */
  at: number;
  endpoint: string;
  /** `GET /orders/17?x=1`, cut to ~200 bytes. */
  request: string;
  /** The request's headers, redacted and each cut to ~200 bytes. */
  headers: Record<string, string>;
  primary: { backend: Backend; status: number };
  shadow: { backend: Backend; status: number };
  differences: Difference[];
  /** Differences beyond those listed. */
  more: number;
}

export interface PairedLatency {
  /** Pairs with both latencies. */
  count: number;
  /** Pairs where the candidate was slower, and faster. */
  candidateSlower: number;
  candidateFaster: number;
  /** Candidate minus legacy (ms): negative when the candidate is faster. */
  meanMs: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  /** Exact sum of the differences (µs), so that merged means are exact. */
  sumUs: number;
  /** Pairs with no difference at all. */
  same: number;
  /** HdrHistogram compressed base64 of |difference| (µs) where the candidate was slower, and faster. */
  slower: string;
  faster: string;
}

export interface ParitySnapshot extends EndpointFigures {
  endpoints: Record<string, EndpointFigures>;
  /** The last mismatches, oldest first. */
  samples: MismatchSample[];
  latency: PairedLatency;
}

export type Backend = 'legacy' | 'candidate';

export interface FiguresOptions {
  /** Endpoints counted apart; the rest are `other` (default 100). */
  maxEndpoints?: number;
  /** Paths counted per table (differences, noise); the rest under OTHER_PATHS (default 100). */
  maxPaths?: number;
  /** Mismatch samples kept (default 20). */
  samples?: number;
  /** JSON Pointer patterns (`/user/email`, `/items/*\/card`) and header names whose values samples never show. */
  redact?: readonly string[];
}

/** Where paths past maxPaths are counted. */
export const OTHER_PATHS = '(other paths)';
/** Always redacted, whatever `redact` says: they carry credentials. */
export const ALWAYS_REDACTED: readonly string[] = ['authorization', 'proxy-authorization', 'cookie', 'set-cookie'];
export const REDACTED = '[redacted]';

/** One comparison, as the shadow tap (or a replay) hands it over. */
export interface Comparison {
  method: string;
  /** The request target (path and query). */
  path: string;
  headers?: Readonly<Record<string, string | string[] | undefined>>;
  primary: { backend: Backend; status: number; latencyUs?: number };
  shadow: { backend: Backend; status: number; latencyUs?: number };
  result: CompareResult;
}

const zeroErrors = (): Record<ErrorKind, number> => ({ refused: 0, reset: 0, timeout: 0, other: 0 });
const emptyEndpoint = (): EndpointFigures => ({ compared: 0, matched: 0, mismatched: 0, skipped: 0, dropped: 0, errors: zeroErrors(), differences: {}, noise: {} });

export class ParityFigures {
  private readonly keys: EndpointKeys;
  private readonly maxPaths: number;
  private readonly maxSamples: number;
  private readonly redactPaths: string[][];
  private readonly redactHeaders: Set<string>;
  private total = emptyEndpoint();
  private endpoints = new Map<string, EndpointFigures>();
  private samples: MismatchSample[] = [];
  private slower: Histogram = newHistogram();
  private faster: Histogram = newHistogram();
  private same = 0;
  private sumUs = 0;

  constructor(
    opts: FiguresOptions = {},
    private readonly now: () => number = () => 0,
  ) {
    this.keys = new EndpointKeys(opts.maxEndpoints ?? 100);
    this.maxPaths = opts.maxPaths ?? 100;
    this.maxSamples = opts.samples ?? 20;
    const redact = opts.redact ?? [];
    this.redactPaths = redact.filter((r) => r === '' || r.startsWith('/')).map(parsePointer);
    this.redactHeaders = new Set([...ALWAYS_REDACTED, ...redact.filter((r) => r !== '' && !r.startsWith('/')).map((h) => h.toLowerCase())]);
  }

  /** The endpoint a request is counted under (the learned noise is kept by the same key). */
  endpoint(method: string, path: string): string {
    return this.keys.key(method, path);
  }

  private of(endpoint: string): EndpointFigures {
    let e = this.endpoints.get(endpoint);
    if (!e) this.endpoints.set(endpoint, (e = emptyEndpoint()));
    return e;
  }

  private both(endpoint: string, f: (e: EndpointFigures) => void): void {
    f(this.total);
    f(this.of(this.keys.admit(endpoint)));
  }

  /** A pair of complete responses was compared. */
  compared(c: Comparison): void {
    const endpoint = this.endpoint(c.method, c.path);
    const r = c.result;
    const paths = r.match ? [] : [...new Set(r.differences.map((d) => templateOf(d.path)))];
    this.both(endpoint, (e) => {
      e.compared++;
      if (r.match) e.matched++;
      else {
        e.mismatched++;
        for (const p of paths) bump(e.differences, p, 1, this.maxPaths);
      }
    });
    if (!r.match) this.sample(endpoint, c, r);
    const a = c.primary.backend === 'candidate' ? c.primary : c.shadow;
    const b = c.primary.backend === 'candidate' ? c.shadow : c.primary;
    if (a.backend !== b.backend && a.latencyUs !== undefined && b.latencyUs !== undefined) this.pair(a.latencyUs - b.latencyUs);
  }

  skipped(endpoint: string): void {
    this.both(endpoint, (e) => e.skipped++);
  }

  dropped(endpoint: string): void {
    this.both(endpoint, (e) => e.dropped++);
  }

  error(endpoint: string, kind: ErrorKind): void {
    this.both(endpoint, (e) => e.errors[kind]++);
  }

  /** Noise learned for an endpoint (the paths noiseBetween found). */
  noise(endpoint: string, paths: readonly string[]): void {
    this.both(endpoint, (e) => {
      for (const p of paths) bump(e.noise, p, 1, this.maxPaths);
    });
  }

  private pair(diffUs: number): void {
    this.sumUs += diffUs;
    if (diffUs === 0) this.same++;
    else (diffUs > 0 ? this.slower : this.faster).recordValue(Math.max(1, Math.round(Math.abs(diffUs))));
  }

  private sample(endpoint: string, c: Comparison, r: Extract<CompareResult, { match: false }>): void {
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(c.headers ?? {})) {
      if (v === undefined) continue;
      const name = k.toLowerCase();
      headers[name] = this.redactHeaders.has(name) ? REDACTED : cut(Array.isArray(v) ? v.join(', ') : String(v));
    }
    this.samples.push({
      at: this.now(),
      endpoint,
      request: cut(`${c.method} ${c.path}`),
      headers,
      primary: { backend: c.primary.backend, status: c.primary.status },
      shadow: { backend: c.shadow.backend, status: c.shadow.status },
      differences: r.differences.map((d) => this.redacted(d)),
      more: r.more,
    });
    if (this.samples.length > this.maxSamples) this.samples.shift();
  }

  /** A difference with its values hidden when its path is, or holds, a redacted place. */
  private redacted(d: Difference): Difference {
    const hide =
      (d.path.startsWith('header:') && this.redactHeaders.has(d.path.slice(7))) ||
      ((d.path === '' || d.path.startsWith('/')) && this.redactPaths.some((r) => overlaps(parsePointer(d.path), r)));
    if (!hide) return { ...d };
    const out: Difference = { path: d.path };
    if (d.primary !== undefined) out.primary = REDACTED;
    if (d.shadow !== undefined) out.shadow = REDACTED;
    return out;
  }

  snapshot(): ParitySnapshot {
    const endpoints: Record<string, EndpointFigures> = {};
    for (const [k, e] of this.endpoints) endpoints[k] = copyEndpoint(e);
    return {
      ...copyEndpoint(this.total),
      endpoints,
      samples: this.samples.map((s) => structuredClone(s)),
      latency: summarise(this.slower, this.faster, this.same, this.sumUs),
    };
  }

  /** POST /parity/reset: everything back to zero (the endpoints known stay known). */
  reset(): void {
    this.total = emptyEndpoint();
    this.endpoints = new Map();
    this.samples = [];
    this.slower = newHistogram();
    this.faster = newHistogram();
    this.same = 0;
    this.sumUs = 0;
  }
}

/** A path at or under a redacted pattern, or above one (its value holds the redacted place). */
function overlaps(path: string[], pattern: string[]): boolean {
  const n = Math.min(path.length, pattern.length);
  for (let i = 0; i < n; i++) if (pattern[i] !== '*' && pattern[i] !== path[i]) return false;
  return true;
}

function bump(m: Record<string, number>, path: string, n: number, max: number): void {
  if (m[path] !== undefined) m[path] += n;
  else if (Object.keys(m).length < max || path === OTHER_PATHS) m[path] = n;
  else m[OTHER_PATHS] = (m[OTHER_PATHS] ?? 0) + n;
}

function copyEndpoint(e: EndpointFigures): EndpointFigures {
  return { ...e, errors: { ...e.errors }, differences: { ...e.differences }, noise: { ...e.noise } };
}

const ms = (us: number) => Math.round(us) / 1000;

function summarise(slower: Histogram, faster: Histogram, same: number, sumUs: number): PairedLatency {
  const ns = slower.totalCount;
  const nf = faster.totalCount;
  const count = ns + nf + same;
  // Signed quantile: the faster pairs (most negative first), the equal ones, then the slower.
  const at = (q: number) => {
    if (count === 0) return 0;
    const k = Math.max(1, Math.ceil(q * count));
    if (k <= nf) return -ms(faster.getValueAtPercentile((100 * (nf - k + 1)) / nf));
    if (k <= nf + same) return 0;
    return ms(slower.getValueAtPercentile((100 * (k - nf - same)) / ns));
  };
  return {
    count,
    candidateSlower: ns,
    candidateFaster: nf,
    meanMs: count === 0 ? 0 : ms(sumUs / count),
    p50Ms: at(0.5),
    p90Ms: at(0.9),
    p99Ms: at(0.99),
    sumUs,
    same,
    slower: ns === 0 ? '' : hdr.encodeIntoCompressedBase64(slower),
    faster: nf === 0 ? '' : hdr.encodeIntoCompressedBase64(faster),
  };
}

export interface MergeOptions {
  maxEndpoints?: number;
  maxPaths?: number;
  samples?: number;
}

/**
 * Snapshots of several processes (workers, replicas) as one: counts add, histograms merge,
 * samples are the latest N by time. Exact while the union stays within the caps; past them the
 * totals are still exact and the extra endpoints and paths are counted as `other`.
 */
export function mergeParity(snaps: readonly ParitySnapshot[], opts: MergeOptions = {}): ParitySnapshot {
  const maxPaths = opts.maxPaths ?? 100;
  const keys = new EndpointKeys(opts.maxEndpoints ?? 100);
  const total = emptyEndpoint();
  const endpoints = new Map<string, EndpointFigures>();
  const slower = newHistogram();
  const faster = newHistogram();
  let same = 0;
  let sumUs = 0;
  const samples: MismatchSample[] = [];
  for (const s of snaps) {
    addEndpoint(total, s, maxPaths);
    for (const [k, e] of Object.entries(s.endpoints)) {
      const key = k === OTHER_ENDPOINT ? k : keys.admit(k);
      let into = endpoints.get(key);
      if (!into) endpoints.set(key, (into = emptyEndpoint()));
      addEndpoint(into, e, maxPaths);
    }
    if (s.latency.slower) slower.add(hdr.decodeFromCompressedBase64(s.latency.slower, 32, false));
    if (s.latency.faster) faster.add(hdr.decodeFromCompressedBase64(s.latency.faster, 32, false));
    same += s.latency.same;
    sumUs += s.latency.sumUs;
    samples.push(...s.samples.map((x) => structuredClone(x)));
  }
  samples.sort((a, b) => a.at - b.at);
  return {
    ...total,
    endpoints: Object.fromEntries(endpoints),
    samples: samples.slice(Math.max(0, samples.length - (opts.samples ?? 20))),
    latency: summarise(slower, faster, same, sumUs),
  };
}

function addEndpoint(into: EndpointFigures, e: EndpointFigures, maxPaths: number): void {
  into.compared += e.compared;
  into.matched += e.matched;
  into.mismatched += e.mismatched;
  into.skipped += e.skipped;
  into.dropped += e.dropped;
  for (const k of ERROR_KINDS) into.errors[k] += e.errors[k] ?? 0;
  // The largest first, so that past the cap the paths that matter most keep their names.
  for (const [p, n] of sorted(e.differences)) bump(into.differences, p, n, maxPaths);
  for (const [p, n] of sorted(e.noise)) bump(into.noise, p, n, maxPaths);
}

const sorted = (m: Record<string, number>) => Object.entries(m).sort((a, b) => b[1] - a[1]);

/** A path table as the admin API lists it: [{ path, count }], most frequent first, at most `n`. */
export function topPaths(m: Record<string, number>, n = 20): Array<{ path: string; count: number }> {
  return sorted(m)
    .slice(0, n)
    .map(([path, count]) => ({ path, count }));
}
