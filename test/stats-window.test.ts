import { describe, expect, it } from 'vitest';
import { Series } from '../src/stats/series.js';
import { mergeSnapshots, toSnapshot } from '../src/stats/snapshot.js';

describe('stats series with a fake clock', () => {
  it('slides: old slices leave the window but stay in the cumulative view', () => {
    const s = new Series(10);
    for (let t = 0; t < 5000; t += 10) s.response(t, 200, 1000); // 500 requests in the first 5 s at 1 ms
    s.transportError(4000, 'refused');
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
    s.response(1_000, 500, 100);
    s.response(25_000, 200, 100);
    expect(toSnapshot(s.window(29_000, 10)).requests).toBe(1);
    expect(toSnapshot(s.window(29_000, 30)).requests).toBe(2);
    expect(toSnapshot(s.window(29_000, 30)).errorRate).toBe(0.5);
  });

  it('computes error rate from 5xx and transport errors; aborts counted once', () => {
    const s = new Series(60);
    s.response(0, 200, 10);
    s.response(0, 503, 10);
    s.response(0, 404, 10);
    s.transportError(0, 'timeout');
    s.clientAbort(0, false);
    s.clientAbort(0, true); // response already counted
    const snap = toSnapshot(s.window(0, 60));
    expect(snap.requests).toBe(5);
    expect(snap.errorRate).toBeCloseTo(2 / 5);
    expect(snap.clientAborts).toBe(2);
    expect(snap.status['4xx']).toBe(1);
  });

  it('gives exact percentiles and merges snapshots exactly', () => {
    const a = new Series(60);
    const b = new Series(60);
    for (let i = 1; i <= 1000; i++) (i % 2 ? a : b).response(0, 200, i * 1000); // 1..1000 ms
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
    s.response(0, 200, 5);
    s.response(1_000_000, 200, 5);
    s.response(999_000, 200, 5);
    expect(toSnapshot(s.cumulative(1_000_000)).requests).toBe(3);
    expect(toSnapshot(s.window(1_000_000, 5)).requests).toBe(2);
  });
});
