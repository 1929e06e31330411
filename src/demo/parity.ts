// What the demo shows of parity: per shadowed route the comparisons and the fields that differ,
// and, once, the first mismatch with both values (the moment parity catches the wrong total).
import type { RouteConfig } from '../config/schema.js';
import type { ParityStore } from '../parity/store.js';
import { differingWords } from '../guard/mismatch-rule.js';

const pct = (x: number, n: number) => (n === 0 ? '-' : `${((100 * x) / n).toFixed(1)} %`);

/** One line per shadowed route: "default: 35 compared, 12 mismatched (34.3 %), differing: /total (12); ignored: /servedAt". */
export function parityLines(store: ParityStore, routes: readonly RouteConfig[]): string {
  return routes
    .filter((r) => r.shadow !== undefined)
    .map((r) => {
      const t = store.route(r.name).figures.totals();
      const ignored = r.shadow!.compare.ignore.length > 0 ? `; ignored (compare.ignore): ${r.shadow!.compare.ignore.join(', ')}` : '';
      const noise = Object.keys(t.noise).length > 0 ? `; learned noise: ${Object.keys(t.noise).join(', ')}` : '';
      return `  ${r.name}: ${t.compared} compared, ${t.mismatched} mismatched (${pct(t.mismatched, t.compared)})${differingWords(t.differences)}${ignored}${noise}`;
    })
    .join('\n');
}

/** The first mismatch of a route, in words (undefined while there is none). */
export function firstMismatch(store: ParityStore, route: string): string | undefined {
  const s = store.route(route).figures.snapshot().samples[0];
  if (!s) return undefined;
  const diffs = s.differences.map((d) => `${d.path}: ${s.primary.backend} ${d.primary ?? '(absent)'}, ${s.shadow.backend} ${d.shadow ?? '(absent)'}`).join('; ');
  return `parity: ${route}: ${s.request} answered 200 by both, but they differ: ${diffs}`;
}
