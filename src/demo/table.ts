// The demo's every-two-seconds table: one row per backend, all routes merged.
import { BACKENDS } from '../config/schema.js';
import type { Stats } from '../stats/store.js';
import { mergeSnapshots, type Snapshot } from '../stats/snapshot.js';

export function backendTotals(stats: Stats): Record<'legacy' | 'candidate', Snapshot> {
  const routes = stats.routeNames();
  const out = {} as Record<'legacy' | 'candidate', Snapshot>;
  for (const b of BACKENDS) out[b] = mergeSnapshots(routes.map((r) => stats.window(r, b)));
  return out;
}

const pad = (s: string, n: number) => s.padStart(n);

export function renderTable(totals: Record<'legacy' | 'candidate', Snapshot>, title: string): string {
  const all = totals.legacy.requests + totals.candidate.requests;
  const lines = [title, `${'backend'.padEnd(10)}${pad('requests', 10)}${pad('share', 8)}${pad('p50 ms', 9)}${pad('p99 ms', 9)}${pad('errors', 9)}`];
  for (const b of BACKENDS) {
    const s = totals[b];
    const share = all === 0 ? 0 : (100 * s.requests) / all;
    lines.push(
      `${b.padEnd(10)}${pad(String(s.requests), 10)}${pad(share.toFixed(1) + '%', 8)}${pad(s.latencyMs.p50.toFixed(1), 9)}${pad(
        s.latencyMs.p99.toFixed(1),
        9,
      )}${pad((100 * s.errorRate).toFixed(2) + '%', 9)}`,
    );
  }
  return lines.join('\n');
}
