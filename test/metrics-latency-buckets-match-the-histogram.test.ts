// The Prometheus latency buckets are read from the HDR histogram in one pass over its counts; they
// must be what walking its recorded values gives (each value's highest equivalent value against
// each bucket bound), and the sum what its mean gives, for histograms of every shape.
import hdr from 'hdr-histogram-js';
import { expect, it } from 'vitest';
import { bucketCounts, LATENCY_BUCKETS } from '../src/metrics/metrics.js';
import { newHistogram } from '../src/stats/series.js';

type Walkable = { totalCount: number; mean: number; recordedValuesIterator: { reset(): void; hasNext(): boolean; next(): { valueIteratedTo: number; countAtValueIteratedTo: number } } };

function byWalking(h: Walkable) {
  const counts = new Array<number>(LATENCY_BUCKETS.length).fill(0);
  let total = 0;
  const it = h.recordedValuesIterator;
  it.reset();
  while (it.hasNext()) {
    const step = it.next();
    total += step.countAtValueIteratedTo;
    for (let i = 0; i < LATENCY_BUCKETS.length; i++) if (step.valueIteratedTo / 1e6 <= LATENCY_BUCKETS[i]) counts[i] += step.countAtValueIteratedTo;
  }
  return { counts, total, sumUs: total === 0 ? 0 : h.mean * total };
}

it('counts every bucket as walking the recorded values does, and sums as the mean does', () => {
  let seed = 9;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const shapes = [
    () => 1 + Math.floor(rnd() * 900), // all under 1 ms
    () => 200 + Math.floor(rnd() ** 4 * 40_000), // a loopback proxy's
    () => 1 + Math.floor(rnd() ** 8 * 70_000_000), // up to past the last bound (60 s)
    () => [1000, 2500, 5000, 10_000, 1_000_000][Math.floor(rnd() * 5)], // exactly on the bounds
  ];
  for (const shape of shapes) {
    const h = newHistogram();
    for (let i = 0; i < 20_000; i++) h.recordValue(shape());
    // a merged one too (its arrays resized while adding), as the cumulative views are
    const merged = newHistogram();
    merged.add(h);
    for (const x of [h, merged, newHistogram(), hdr.build({ bitBucketSize: 32, autoResize: true, numberOfSignificantValueDigits: 3 })]) {
      const want = byWalking(x as unknown as Walkable);
      const got = bucketCounts(x as never);
      expect(got.counts).toEqual(want.counts);
      expect(got.total).toBe(want.total);
      expect(got.sumUs).toBeCloseTo(want.sumUs, -1);
    }
  }
});
