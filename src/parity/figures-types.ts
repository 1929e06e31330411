// The shapes of parity figures (counts, per-endpoint tables, samples, paired latency, the
// snapshot) and the small helpers that the recorder (figures.ts) and the merge (merge.ts) share.
// Pure data, no I/O.
import type { ErrorKind } from '../stats/series.js';
import type { CompareResult, Difference } from './compare.js';

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

export const zeroErrors = (): Record<ErrorKind, number> => ({ refused: 0, reset: 0, timeout: 0, other: 0 });
export const emptyEndpoint = (): EndpointFigures => ({ compared: 0, matched: 0, mismatched: 0, skipped: 0, dropped: 0, errors: zeroErrors(), differences: {}, noise: {} });

/** Add n to a path's count; past `max` paths the new ones are counted under OTHER_PATHS. */
export function bump(m: Record<string, number>, path: string, n: number, max: number): void {
  if (m[path] !== undefined) m[path] += n;
  else if (Object.keys(m).length < max || path === OTHER_PATHS) m[path] = n;
  else m[OTHER_PATHS] = (m[OTHER_PATHS] ?? 0) + n;
}

export function copyEndpoint(e: EndpointFigures): EndpointFigures {
  return { ...e, errors: { ...e.errors }, differences: { ...e.differences }, noise: { ...e.noise } };
}
