import { describe, expect, it } from 'vitest';
import { Series } from '../src/stats/series.js';
import { mergeSnapshots, toSnapshot } from '../src/stats/snapshot.js';

describe('stats series with a fake clock', () => {
  it('slides: old slices leave the window but stay in the cumulative view', () => {
    const s = new Series(10);
    for (let t = 0; t < 5000; t += 10) s.record(t, 200, null, 1000, false); // 500 requests in the first 5 s at 1 ms
    s.record(4000, 0, 'refused', 0, false);
    expect(toSnapshot(s.window(5000, 10)).requests).toBe(501);
    const later = toSnapshot(s.window(16_000, 10));
    expect(later.requests).toBe(0);
    const total = toSnapshot(s.cumulative(16_000));
    expect(total.requests).toBe(501);
    expect(total.errors.refused).toBe(1);
    expect(total.latencyMs.p50).toBeCloseTo(1, 2);
  });

  it('answers a shorter window than it retains', () => {
    const s = new Series(30);
    s.record(1_000, 500, null, 100, false);
    s.record(25_000, 200, null, 100, false);
    expect(toSnapshot(s.window(29_000, 10)).requests).toBe(1);
    expect(toSnapshot(s.window(29_000, 30)).requests).toBe(2);
    expect(toSnapshot(s.window(29_000, 30)).errorRate).toBe(0.5);
  });

  it('computes error rate from 5xx and transport errors; aborts counted once, early ones left out', () => {
    const s = new Series(60);
    s.slowUs = 5_000_000;
    s.record(0, 200, null, 10, false);
    s.record(0, 503, null, 10, false);
    s.record(0, 404, null, 10, false);
    s.record(0, 0, 'timeout', 30_000_000, false);
    s.record(0, 0, null, 1_000_000, true); // gave up after 1 s, before any response: no evidence
    s.record(0, 200, null, 10, true); // gave up while the body streamed: the response counts
    const snap = toSnapshot(s.window(0, 60));
    expect(snap.requests).toBe(6);
    expect(snap.unjudged).toBe(1);
    expect(snap.errorRate).toBeCloseTo(2 / 5);
    expect(snap.clientAborts).toBe(2);
    expect(snap.status['4xx']).toBe(1);
    expect(snap.gatewayAnswers).toBe(1);
  });

  it('records a timeout as a latency, and an abort past the threshold as slow at its age', () => {
    const s = new Series(60);
    s.slowUs = 5_000_000;
    for (let i = 0; i < 97; i++) s.record(0, 200, null, 20_000, false);
    s.record(0, 0, 'timeout', 30_000_000, false);
    s.record(0, 0, null, 6_000_000, true); // the client waited 6 s, then gave up
    s.record(0, 0, null, 900_000, true); // gave up at 0.9 s: left out
    const snap = toSnapshot(s.window(0, 60));
    expect(snap.slow).toBe(2);
    expect(snap.unjudged).toBe(1);
    expect(snap.latencyMs.count).toBe(99);
    expect(snap.latencyMs.max).toBeGreaterThanOrEqual(30_000);
  });

  it('lists the requests in flight oldest first, from a minimum age', () => {
    const s = new Series(60);
    for (const started of [100, 200, 300, 4_000]) s.inFlight.add({ started });
    expect(s.inFlightAges(5_000, 1_001)).toEqual([4_900, 4_800, 4_700]);
    expect(s.inFlightAges(5_000, 1_000)).toEqual([4_900, 4_800, 4_700, 1_000]);
    expect(s.inFlightAges(5_000, 4_750)).toEqual([4_900, 4_800]);
  });

  it('gives exact percentiles and merges snapshots exactly', () => {
    const a = new Series(60);
    const b = new Series(60);
    for (let i = 1; i <= 1000; i++) (i % 2 ? a : b).record(0, 200, null, i * 1000, false); // 1..1000 ms
    const merged = mergeSnapshots([toSnapshot(a.window(0, 60)), toSnapshot(b.window(0, 60))]);
    expect(merged.requests).toBe(1000);
    expect(merged.latencyMs.p50).toBeGreaterThan(499);
    expect(merged.latencyMs.p50).toBeLessThan(501);
    expect(merged.latencyMs.p99).toBeGreaterThan(989);
    expect(merged.latencyMs.p99).toBeLessThan(991);
    expect(merged.latencyMs.max).toBeGreaterThan(999);
  });

  it('survives a long idle gap and a clock that goes backwards', () => {
    const s = new Series(5);
    s.record(0, 200, null, 5, false);
    s.record(1_000_000, 200, null, 5, false);
    s.record(999_000, 200, null, 5, false);
    expect(toSnapshot(s.cumulative(1_000_000)).requests).toBe(3);
    expect(toSnapshot(s.window(1_000_000, 5)).requests).toBe(2);
  });

  it('keeps an hour-long window in bounded memory: older seconds fold into minute slots, nothing lost', () => {
    const s = new Series(3600);
    // One request per second for two hours, each at 1 ms.
    for (let t = 0; t < 7200; t++) s.record(t * 1000, t % 100 === 0 ? 500 : 200, null, 1000, false);
    const now = 7200 * 1000 - 1;
    const hour = toSnapshot(s.window(now, 3600));
    // The far end moves in minute steps: the hour holds 3600 to 3660 of them.
    expect(hour.requests).toBeGreaterThanOrEqual(3600);
    expect(hour.requests).toBeLessThanOrEqual(3660);
    expect(toSnapshot(s.window(now, 30)).requests).toBe(30); // the recent seconds stay exact
    expect(toSnapshot(s.window(now, 90)).requests).toBeGreaterThanOrEqual(90);
    expect(toSnapshot(s.window(now, 90)).requests).toBeLessThanOrEqual(150);
    const all = toSnapshot(s.cumulative(now));
    expect(all.requests).toBe(7200);
    expect(all.status['5xx']).toBe(72);
    // At most 61 one-second slices and 63 minute slots hold a histogram, whatever the window.
    const slots = (s as unknown as { ring: unknown[]; coarse: unknown[] });
    expect(slots.ring.length).toBe(61);
    expect(slots.coarse.length).toBe(63);
  });
});
