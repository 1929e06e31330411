// Readable parity for `cutover parity status` and the parity lines of `cutover status`, from
// GET /api/v1/parity (and GET /api/v1/shadow for each route's share).

interface PathCount {
  path: string;
  count: number;
}

export interface ParityRouteBody {
  compared: number;
  matched: number;
  mismatched: number;
  skipped: number;
  dropped: number;
  errors: Record<string, number>;
  differences: PathCount[];
  noise: PathCount[];
}

export interface ParityBody {
  routes: Record<string, ParityRouteBody>;
}

/** "2.50%", or "-" before the first comparison (no rate to speak of). */
export const mismatchRate = (r: ParityRouteBody) => (r.compared === 0 ? '-' : `${((100 * r.mismatched) / r.compared).toFixed(2)}%`);

/** The most frequent paths, "/total (3), /items/*\/price (1)", at most `n`. */
const top = (paths: readonly PathCount[], n = 3) => (paths.length === 0 ? '-' : paths.slice(0, n).map((p) => `${p.path} (${p.count})`).join(', '));

/** One row per route with a shadow: its share, what was compared, the mismatch rate, where the answers differ and the noise learned. */
export function renderParity(p: ParityBody, shares: Record<string, number> = {}): string {
  const cols = ['route', 'shadow%', 'compared', 'mismatched', 'mismatch rate', 'errors', 'top differing paths', 'noise'];
  const rows = Object.entries(p.routes).map(([name, r]) => [
    name,
    shares[name] === undefined ? '-' : String(shares[name]),
    String(r.compared),
    String(r.mismatched),
    mismatchRate(r),
    String(Object.values(r.errors).reduce((a, b) => a + b, 0)),
    top(r.differences),
    top(r.noise),
  ]);
  if (rows.length === 0) return 'no route has a shadow (routes[].shadow)\n';
  const widths = cols.map((c, i) => Math.max(c.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i >= 1 && i <= 5 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd();
  return [line(cols), ...rows.map(line)].join('\n') + '\n';
}

/** `cutover status`: one line per route that shadows, "parity shop: mismatch rate 2.50% (3 of 120 compared); differs at /total (3)". */
export function parityLines(routes: Record<string, ParityRouteBody>): string {
  const lines = Object.entries(routes).map(([name, r]) => `parity ${name}: mismatch rate ${mismatchRate(r)} (${r.mismatched} of ${r.compared} compared)${r.differences.length > 0 ? `; differs at ${top(r.differences)}` : ''}`);
  return lines.length === 0 ? '' : lines.join('\n') + '\n';
}
