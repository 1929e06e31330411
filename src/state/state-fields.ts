// The control state as independent fields (one per route's split, latch and ramp, and
// maintenance), so that replicas sharing one store write only what they changed: an operator's
// new split on one route and the leader's revert of another never overwrite each other. Pure.
import type { Change, GuardLatch, PersistedState, RouteState } from './types.js';

/** Field name → JSON text; a latch that is gone is a field that is absent. */
export type Fields = Map<string, string>;

export function toFields(s: PersistedState): Fields {
  const out: Fields = new Map();
  for (const [route, r] of Object.entries(s.routes)) out.set(`route:${route}`, JSON.stringify(r));
  for (const [route, l] of Object.entries(s.guard ?? {})) out.set(`latch:${route}`, JSON.stringify(l));
  out.set('maintenance', JSON.stringify(s.maintenance));
  for (const [route, r] of Object.entries(s.ramp ?? {})) out.set(`ramp:${route}`, JSON.stringify(r));
  return out;
}

export function fromFields(fields: Fields, history: Change[], version: number, savedAt: string): PersistedState {
  const s: PersistedState = {
    version,
    savedAt,
    routes: {},
    maintenance: { enabled: false, retryAfterSeconds: 30, message: 'The service is down for maintenance; try again shortly.' },
    guard: {},
    history,
  };
  for (const [k, v] of fields) {
    const value = JSON.parse(v) as unknown;
    if (k.startsWith('route:')) s.routes[k.slice(6)] = value as RouteState;
    else if (k.startsWith('latch:')) s.guard[k.slice(6)] = value as GuardLatch;
    else if (k === 'maintenance') s.maintenance = value as PersistedState['maintenance'];
    else if (k.startsWith('ramp:')) (s.ramp ??= {})[k.slice(5)] = value as NonNullable<PersistedState['ramp']>[string];
  }
  return s;
}

/** What `next` changed against `base`: fields to set and fields to delete. */
export function diffFields(base: Fields, next: Fields): { set: Array<[string, string]>; del: string[] } {
  const set: Array<[string, string]> = [];
  const del: string[] = [];
  for (const [k, v] of next) if (base.get(k) !== v) set.push([k, v]);
  for (const k of base.keys()) if (!next.has(k)) del.push(k);
  return { set, del };
}

/**
 * A remote state arrived while this replica may have changes of its own not written yet: every
 * field this replica did not change since `base` (the last state both agreed on) takes the
 * remote's value; a field it changed keeps its own (its write is on the way).
 */
export function mergeRemote(local: Fields, base: Fields, remote: Fields): Fields {
  const out: Fields = new Map();
  const keys = new Set([...local.keys(), ...base.keys(), ...remote.keys()]);
  for (const k of keys) {
    const mine = local.get(k);
    const dirty = mine !== base.get(k);
    const v = dirty ? mine : remote.get(k);
    if (v !== undefined) out.set(k, v);
  }
  return out;
}

/** History entries of `local` that `known` does not hold yet (by id), newest first. */
export function newEntries(local: readonly Change[], known: ReadonlySet<string>): Change[] {
  return local.filter((c) => c.id !== undefined && !known.has(c.id));
}
