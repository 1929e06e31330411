// Readable tables for `cutover status`.
import type { Snapshot } from '../stats/snapshot.js';
import { parityLines, type ParityRouteBody } from './render-parity.js';

interface StatusRoute {
  name: string;
  candidatePercent: number;
  guard: { state: string; rule: string; since: string } | null;
  backends: Record<'legacy' | 'candidate', { window: Snapshot; cumulative: Snapshot }>;
}

export interface StatusBody {
  version: string;
  configFile: string | null;
  uptimeSeconds: number;
  windowSeconds: number;
  inFlight: number;
  maintenance: { enabled: boolean };
  routes: StatusRoute[];
  guard?: GuardBody;
  fleet?: FleetBody;
  nodes?: Record<string, NodeBody[]> | null;
  discovery?: Record<string, DiscoveryBody | null> | null;
  /** GET /api/v1/parity's routes, when a route shadows (the CLI adds it). */
  parity?: Record<string, ParityRouteBody>;
}

export interface NodeBody {
  origin: string;
  source?: 'static' | 'dns';
  address?: string;
  state: string;
  ejectedForMs: number;
  lastRefresh?: string | null;
}

export interface DiscoveryBody {
  state: 'ok' | 'degraded';
  refreshSeconds: number;
  lastRefresh: string | null;
  errors: string[];
}

/** Each cluster's nodes: source, address, health, last refresh; a discovered cluster's state first. */
export function renderClusters(nodes: Record<string, NodeBody[]>, discovery: Record<string, DiscoveryBody | null> = {}, now = Date.now()): string {
  const ago = (iso: string | null | undefined) => (iso ? `${Math.max(0, (now - Date.parse(iso)) / 1000).toFixed(1)} s ago` : '-');
  const lines: string[] = [];
  for (const [backend, list] of Object.entries(nodes)) {
    const d = discovery[backend];
    const head = d
      ? `dns every ${d.refreshSeconds} s, last refresh ${ago(d.lastRefresh)}${d.state === 'degraded' ? `; DEGRADED (serving the last known nodes): ${d.errors.join('; ')}` : ''}`
      : 'static';
    lines.push(`${backend}: ${list.length} node${list.length === 1 ? '' : 's'}, ${head}`);
    const rows = list.map((n) => [
      `  ${n.source ?? 'static'}`,
      n.address ?? n.origin,
      n.origin,
      n.state === 'ejected' ? `EJECTED (${(n.ejectedForMs / 1000).toFixed(1)} s left)` : n.state,
      n.source === 'dns' ? `seen ${ago(n.lastRefresh)}` : '',
    ]);
    const widths = [0, 1, 2, 3].map((i) => Math.max(...rows.map((r) => r[i].length)));
    for (const r of rows) lines.push(r.map((c, i) => (i < 4 ? c.padEnd(widths[i]) : c)).join('  ').trimEnd());
  }
  return lines.join('\n') + '\n';
}

export interface FleetBody {
  mode: 'single' | 'redis';
  replica?: string;
  leading?: boolean;
  leader?: string | null;
  degraded?: boolean;
  why?: string | null;
  store?: { name: string; healthy: boolean; generation: number };
  replicas?: Array<{ replica: string; ageMs: number; fresh: boolean; requests: number; leader: boolean }>;
}

/** The fleet: this replica, the leader, the store, and every replica with its last report. */
export function renderFleet(f: FleetBody): string {
  if (f.mode !== 'redis') return '';
  const lines = [
    `fleet: replica ${f.replica}${f.leading ? ' (leads the guard)' : `, leader ${f.leader ?? 'none'}`}; ${f.store?.name}, generation ${f.store?.generation}${f.degraded ? `; DEGRADED: ${f.why}` : ''}`,
  ];
  for (const r of f.replicas ?? []) {
    lines.push(`  ${r.replica.padEnd(24)} ${r.fresh ? 'reporting' : 'STALE    '}  last report ${(r.ageMs / 1000).toFixed(1)} s ago  ${r.requests} requests${r.leader ? '  leader' : ''}`);
  }
  return lines.join('\n') + '\n';
}

export interface GuardBody {
  enabled: boolean;
  dryRun: boolean;
  scope: string;
  windowSeconds: number;
  rules: Record<string, number | null>;
  routes: Record<
    string,
    {
      state: string;
      streak: number;
      lastVerdict: { kind: string; summary: string } | null;
      latch: { rule: string; reason: string; since: string } | null;
      secondsSinceChange: number | null;
    }
  >;
}

/** One line per route: state, the figures next to the thresholds, time since the last change. */
export function renderGuard(g: GuardBody): string {
  const rules = Object.entries(g.rules)
    .filter(([, v]) => v !== null)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  const lines = [`guard ${g.enabled ? 'on' : 'OFF'}${g.dryRun ? ' (dry run)' : ''}, scope ${g.scope}, window ${g.windowSeconds} s; rules: ${rules}`];
  for (const [name, r] of Object.entries(g.routes)) {
    const since = r.secondsSinceChange === null ? '' : ` (for ${r.secondsSinceChange} s)`;
    const detail = r.latch ? `${r.latch.rule}: ${r.latch.reason}; re-arm with: cutover guard rearm --route ${name}` : (r.lastVerdict?.summary ?? 'no verdict yet');
    lines.push(`  ${name}: ${r.state.toUpperCase()}${since}: ${detail}`);
  }
  return lines.join('\n') + '\n';
}

const pct = (x: number) => `${(100 * x).toFixed(2)}%`;
const ms = (x: number) => x.toFixed(1);

export function renderStatus(s: StatusBody): string {
  const head = [
    `cutover ${s.version}  up ${s.uptimeSeconds} s  in flight ${s.inFlight}  maintenance ${s.maintenance.enabled ? 'ON' : 'off'}`,
    `config ${s.configFile ?? '(none)'}; figures over the last ${s.windowSeconds} s`,
    '',
  ];
  const cols = ['route', 'candidate%', 'backend', 'requests', 'p50 ms', 'p99 ms', 'errors', 'guard'];
  const rows: string[][] = [];
  for (const r of s.routes) {
    for (const b of ['legacy', 'candidate'] as const) {
      const w = r.backends[b].window;
      const g = s.guard?.routes[r.name];
      rows.push([
        b === 'legacy' ? r.name : '',
        b === 'legacy' ? String(r.candidatePercent) : '',
        b,
        String(w.requests),
        ms(w.latencyMs.p50),
        ms(w.latencyMs.p99),
        pct(w.errorRate),
        b === 'legacy' ? (r.guard ? `REVERTED (${r.guard.rule})` : (g?.state ?? '')) : '',
      ]);
    }
  }
  const widths = cols.map((c, i) => Math.max(c.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i >= 3 && i <= 6 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd();
  const fleet = s.fleet ? renderFleet(s.fleet) : '';
  const clusters = s.nodes ? '\n' + renderClusters(s.nodes, s.discovery ?? {}) : '';
  const parity = s.parity ? parityLines(s.parity) : '';
  return [...head, line(cols), ...rows.map(line)].join('\n') + '\n' + (parity ? '\n' + parity : '') + (s.guard ? '\n' + renderGuard(s.guard) : '') + (fleet ? '\n' + fleet : '') + clusters;
}
