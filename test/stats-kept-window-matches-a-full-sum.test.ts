// The window and cumulative views are kept as the head moves (one add per closed slice, one
// subtract per slice that leaves a window) instead of summed slice by slice on every read. Against
// a reference that sums the raw records, they must agree exactly: counts, status classes, and the
// histogram's count and percentiles (max included, to the histogram's precision), through bursts, idle gaps longer than the window, a gap
// longer than the ring, and a clock that steps back.
import hdr from 'hdr-histogram-js';
import { expect, it } from 'vitest';
import { Series } from '../src/stats/series.js';

interface Rec {
  at: number;
  status: number;
  us: number;
}

/** A seeded generator (mulberry32), so a failure reproduces. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** What the window of `seconds` at slice `head` holds, from the raw records (each in the slice it was recorded in). */
function reference(recs: readonly Rec[], head: number, seconds: number | undefined) {
  const h = hdr.build({ bitBucketSize: 32, autoResize: true, numberOfSignificantValueDigits: 3 });
  const inWindow = recs.filter((r) => seconds === undefined || Math.floor(r.at / 1000) >= head - seconds + 1);
  for (const r of inWindow) h.recordValue(r.us);
  return { requests: inWindow.length, errors: inWindow.filter((r) => r.status >= 500).length, h };
}

it('agrees with a full sum of the records over random traffic, gaps and a clock that steps back', () => {
  const rnd = random(19);
  const s = new Series(60);
  s.keepWindow(30); // kept from the start; the others from their first read
  const recs: Rec[] = [];
  let now = 5_000;
  let head = Math.floor(now / 1000);
  for (let step = 0; step < 3000; step++) {
    const r = rnd();
    if (r < 0.02) now += 1000 * Math.floor(rnd() * 90); // an idle gap, sometimes longer than the window
    else if (r < 0.021) now += 200_000; // longer than the ring
    else if (r < 0.03) now -= 700; // the clock steps back: recorded into the current head
    else now += Math.floor(rnd() * 120);
    const status = rnd() < 0.1 ? 503 : 200;
    const us = 1 + Math.floor(rnd() ** 3 * 2_000_000);
    s.record(now, status, null, us, false);
    head = Math.max(head, Math.floor(now / 1000));
    recs.push({ at: head * 1000, status, us }); // a record lands in the head slice
    if (step % 37 === 0) {
      for (const seconds of [1, 5, 30, 60, undefined]) {
        const view = seconds === undefined ? s.cumulative(now) : s.window(now, seconds);
        const want = reference(recs, head, seconds);
        const label = `step ${step}, window ${seconds ?? 'cumulative'}`;
        expect(view.counters.requests, label).toBe(want.requests);
        expect(view.counters.status[4], label).toBe(want.errors);
        expect(view.histogram.totalCount, label).toBe(want.h.totalCount);
        // (maxValue itself may be any value of its bucket once added across differently sized histograms.)
        for (const p of [50, 90, 99, 99.9, 100]) expect(view.histogram.getValueAtPercentile(p), `${label} p${p}`).toBe(want.h.getValueAtPercentile(p));
      }
    }
  }
});

it('counts what the split served from the counters alone, as the cumulative views do', async () => {
  const { Stats } = await import('../src/stats/store.js');
  let now = 0;
  const stats = new Stats(10, 10, () => now);
  const r = stats.route('a');
  for (let t = 0; t < 30_000; t += 7) {
    now = t;
    (t % 3 === 0 ? r.candidate : r.legacy).record(t, 200, null, 100, false);
    if (t % 11 === 0) r.forced.legacy.record(t, 200, null, 100, false);
  }
  const fromViews = { legacy: 0, candidate: 0 };
  for (const v of stats.views()) if (!v.forced) fromViews[v.backend] += v.cumulative.counters.requests;
  expect(stats.served()).toEqual(fromViews);
  expect(fromViews.legacy + fromViews.candidate).toBe(Math.ceil(30_000 / 7));
});
