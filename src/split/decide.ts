// Pure split decisions: which backend gets one request. No I/O, no clock.
import type { BackendName } from '../config/schema.js';

/** Number of sticky buckets; a percent maps to percent × 100 buckets (0.01 % resolution). */
export const BUCKETS = 10_000;

/**
 * Stable bucket 0..9999 for a stickiness key, salted with the route name so that one user
 * lands in independent buckets on different routes. FNV-1a, then murmur3's finaliser for
 * avalanche, so that similar keys (user-1, user-2) spread evenly.
 */
export function bucketOf(routeName: string, key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < routeName.length; i++) {
    h ^= routeName.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h = Math.imul(h, 0x01000193); // a zero byte between route name and key
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) % BUCKETS;
}

/**
 * A key goes to the candidate when its bucket is below percent × 100. Raising the percent only
 * adds buckets and lowering it only removes them: nobody flips back and forth during a ramp.
 */
export function stickyBackend(bucket: number, percent: number): BackendName {
  return bucket < Math.round(percent * 100) ? 'candidate' : 'legacy';
}

/**
 * State of a smooth weighted round robin over two backends (nginx/Traefik style). With two
 * backends whose weights sum to BUCKETS the legacy "current weight" is always the negation of
 * the candidate's, so one number is enough.
 */
export interface Interleave {
  current: number;
}

export function newInterleave(): Interleave {
  return { current: 0 };
}

/**
 * Next backend for a request without a stickiness key. Deterministic and exact over any run of
 * requests: at 10 %, every 10 consecutive requests hold one candidate request. Mutates `state`.
 */
export function interleaveNext(state: Interleave, percent: number): BackendName {
  const weight = Math.round(percent * 100);
  const c = state.current + weight;
  // candidate's current (c) against legacy's (-state.current + BUCKETS - weight); ties go to legacy
  if (2 * c > BUCKETS) {
    state.current = c - BUCKETS;
    return 'candidate';
  }
  state.current = c;
  return 'legacy';
}

/** Value of one cookie in a Cookie header, without building a map of all of them. */
export function cookieValue(header: string, name: string): string | undefined {
  let start = 0;
  while (start < header.length) {
    let end = header.indexOf(';', start);
    if (end === -1) end = header.length;
    const eq = header.indexOf('=', start);
    if (eq !== -1 && eq < end && header.slice(start, eq).trim() === name) {
      let v = header.slice(eq + 1, end).trim();
      if (v.length >= 2 && v.startsWith('"') && v.endsWith('"')) v = v.slice(1, -1);
      return v;
    }
    start = end + 1;
  }
  return undefined;
}

/** The split decision for one request: sticky when there is a key, interleaved otherwise. */
export function decide(split: { percent: number; interleave: Interleave }, routeName: string, key: string | undefined): BackendName {
  const p = split.percent;
  if (p <= 0) return 'legacy';
  if (p >= 100) return 'candidate';
  return key === undefined ? interleaveNext(split.interleave, p) : stickyBackend(bucketOf(routeName, key), p);
}
