// The fleet's leader judges every replica's comparisons: the parity counts each replica publishes
// with its guard snapshot add up per route, a replica too old to carry them (no `parity` field)
// still merges, and a stale snapshot is left out.
import { expect, it } from 'vitest';
import { combineWire, mergeGuardSnapshots, type GuardSnapshot, type WireRoute } from '../src/fleet/snapshots.js';

const route = (parity?: WireRoute['parity']): WireRoute => ({
  windows: [30],
  legacy: [{ requests: 100, errors: 0, timed: 100, slow: 0 }],
  candidate: [{ requests: 10, errors: 0, timed: 10, slow: 0 }],
  inFlightMs: { legacy: [], candidate: [] },
  timeoutMs: { legacy: 30_000, candidate: 30_000 },
  ...(parity ? { parity } : {}),
});
const snap = (replica: string, at: number, r: WireRoute): GuardSnapshot => ({ replica, at, leader: false, requests: 110, routes: { orders: r } });

it('adds up the replicas’ comparisons per route, old snapshots without parity included', () => {
  const now = 10_000;
  const snaps = [
    snap('a', now, route({ compared: 30, matched: 20, mismatched: 10, differences: { '/total': 10 }, noise: { '/at': 30 } })),
    snap('b', now - 100, route({ compared: 20, matched: 10, mismatched: 10, differences: { '/total': 9, '/items/*/sku': 1 }, noise: {} })),
    // An older replica: it sends no parity field; its windows still count.
    JSON.parse(JSON.stringify(snap('old', now, route()))) as GuardSnapshot,
    snap('stale', now - 60_000, route({ compared: 1000, matched: 0, mismatched: 1000, differences: { '/total': 1000 }, noise: {} })),
  ];
  const merged = mergeGuardSnapshots(snaps, now, 1000);
  expect(merged.fresh.sort()).toEqual(['a', 'b', 'old']);
  expect(merged.routes.get('orders')?.[0].candidate.requests).toBe(30);
  expect(merged.parity.get('orders')).toEqual({ compared: 50, matched: 30, mismatched: 20, differences: { '/total': 19, '/items/*/sku': 1 }, noise: { '/at': 30 } });
  // A cluster's primary publishes its workers' sum as one replica: the parity travels with it.
  expect(combineWire(snaps, now, 1000).orders.parity).toMatchObject({ compared: 50, mismatched: 20 });
});

it('has no parity for a route no replica shadows', () => {
  const merged = mergeGuardSnapshots([snap('a', 0, route())], 0, 1000);
  expect(merged.parity.has('orders')).toBe(false);
  expect(combineWire([snap('a', 0, route())], 0, 1000).orders.parity).toBeUndefined();
});
