// Parity figures of one route: what the comparisons found, overall and per endpoint, the last
// mismatches as samples (redacted), and the paired latency (candidate minus legacy on the same
// requests). Recorded in each process; snapshots are plain data and merge exactly, like
// stats/snapshot.ts, so that workers and a fleet are judged on their sum. No I/O; the clock
// (for the samples' times) is injected.
import type { Histogram } from 'hdr-histogram-js';
import { newHistogram, type ErrorKind } from '../stats/series.js';
import type { CompareResult, Difference } from './compare.js';
import { EndpointKeys } from './endpoint.js';
import { ALWAYS_REDACTED, bump, copyEndpoint, emptyEndpoint, REDACTED, type Comparison, type EndpointFigures, type FiguresOptions, type MismatchSample, type ParitySnapshot } from './figures-types.js';
import { summarise } from './paired-latency.js';
import { cut, parsePointer, templateOf } from './pointer.js';

export * from './figures-types.js';
export { mergeParity, topPaths, type MergeOptions } from './merge.js';
export { summarise } from './paired-latency.js';

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

  /** The route's counts and path tables alone (cheap: what the guard and the ramp judge). */
  totals(): EndpointFigures {
    return copyEndpoint(this.total);
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
