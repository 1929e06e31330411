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
  guard?: { routes: Record<string, { state: string; lastVerdict?: { kind: string; summary: string }; sinceChange?: string }> };
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
        b === 'legacy' ? (r.guard ? `REVERTED (${r.guard.rule})` : g ? `${g.state}${g.lastVerdict ? `: ${g.lastVerdict.summary}` : ''}` : '') : '',
      ]);
    }
  }
  const widths = cols.map((c, i) => Math.max(c.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i >= 3 && i <= 6 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd();
  return [...head, line(cols), ...rows.map(line)].join('\n') + '\n';
}
