// Parity snapshots of several processes (workers, replicas) merged into one, and the path tables
// as the admin API lists them. Pure.
import hdr from 'hdr-histogram-js';
import { ERROR_KINDS, newHistogram } from '../stats/series.js';
import { OTHER_ENDPOINT, EndpointKeys } from './endpoint.js';
import { bump, emptyEndpoint, type EndpointFigures, type MismatchSample, type ParitySnapshot } from './figures-types.js';
import { summarise } from './paired-latency.js';

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
