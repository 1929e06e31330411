// Readable tables for `cutover status`.
import type { Snapshot } from '../stats/snapshot.js';

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
  return [...head, line(cols), ...rows.map(line)].join('\n') + '\n' + (s.guard ? '\n' + renderGuard(s.guard) : '') + (fleet ? '\n' + fleet : '');
}
