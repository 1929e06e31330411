// The scorecard as one self-contained HTML file: the Markdown's tables as HTML and, per route, an
// inline SVG of both backends' latency distributions on a log scale. No script, no stylesheet or
// font from the network: it opens anywhere, offline.
import type { Bucket } from './latency.js';
import type { Report, Rung, Section } from './build.js';
import { headline, lineVerdict, parityLines } from './render-text.js';

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const COLORS = { legacy: '#1f77b4', candidate: '#d62728' };

/** Share of requests per log-spaced latency bucket, both backends as lines, x on a log scale. */
export function distributionSvg(buckets: Bucket[], title: string): string {
  const W = 720;
  const H = 300;
  const m = { l: 56, r: 16, t: 28, b: 40 };
  if (buckets.length === 0) return `<p>${esc(title)}: no latencies recorded yet.</p>`;
  const x0 = Math.log10(buckets[0].fromMs);
  const x1 = Math.log10(buckets[buckets.length - 1].toMs);
  const yMax = Math.max(...buckets.map((b) => Math.max(b.legacy, b.candidate)), 1e-9);
  const x = (ms: number) => m.l + ((Math.log10(ms) - x0) / Math.max(1e-9, x1 - x0)) * (W - m.l - m.r);
  const y = (share: number) => H - m.b - (share / yMax) * (H - m.t - m.b);
  const path = (b: 'legacy' | 'candidate') =>
    buckets.map((k, i) => `${i === 0 ? 'M' : 'L'}${x(Math.sqrt(k.fromMs * k.toMs)).toFixed(1)},${y(k[b]).toFixed(1)}`).join(' ');
  const ticks: string[] = [];
  for (let d = Math.ceil(x0); d <= Math.floor(x1); d++) {
    const ms = 10 ** d;
    const label = ms >= 1000 ? `${ms / 1000} s` : `${ms} ms`;
    ticks.push(`<line x1="${x(ms)}" x2="${x(ms)}" y1="${m.t}" y2="${H - m.b}" stroke="#ddd"/><text x="${x(ms)}" y="${H - m.b + 16}" text-anchor="middle" font-size="11">${label}</text>`);
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(title)}">
<text x="${m.l}" y="16" font-size="13" font-weight="bold">${esc(title)}</text>
${ticks.join('\n')}
<line x1="${m.l}" x2="${W - m.r}" y1="${H - m.b}" y2="${H - m.b}" stroke="#333"/><line x1="${m.l}" x2="${m.l}" y1="${m.t}" y2="${H - m.b}" stroke="#333"/>
<text x="${(W + m.l) / 2}" y="${H - 6}" text-anchor="middle" font-size="11">latency (log scale)</text>
<text x="14" y="${(H - m.b + m.t) / 2}" transform="rotate(-90 14 ${(H - m.b + m.t) / 2})" text-anchor="middle" font-size="11">share of requests</text>
<text x="${m.l - 6}" y="${m.t + 4}" text-anchor="end" font-size="11">${(100 * yMax).toFixed(0)} %</text>
<path d="${path('legacy')}" fill="none" stroke="${COLORS.legacy}" stroke-width="2"/>
<path d="${path('candidate')}" fill="none" stroke="${COLORS.candidate}" stroke-width="2"/>
<text x="${W - m.r - 120}" y="${m.t + 12}" font-size="12" fill="${COLORS.legacy}">— legacy</text>
<text x="${W - m.r - 120}" y="${m.t + 28}" font-size="12" fill="${COLORS.candidate}">— candidate</text>
</svg>`;
}

/**
 * The percentile ladder: latency (log scale, y) at p50 … p99.99 (x spaced by "nines", so the
 * tail gets as much room as the median), one line per backend. Reads better than a histogram of
 * coarse buckets: the gap between the lines is the ratio at each percentile.
 */
export function ladderSvg(rungs: Rung[], title: string): string {
  const W = 720;
  const H = 300;
  const m = { l: 64, r: 110, t: 28, b: 44 };
  const values = rungs.flatMap((r) => [r.legacy, r.candidate]).filter((v): v is number => v !== null && v > 0);
  if (values.length === 0) return `<p>${esc(title)}: no latencies recorded yet.</p>`;
  const nines = (p: number) => -Math.log10(1 - p / 100);
  const x0 = nines(rungs[0].percentile);
  const x1 = nines(rungs[rungs.length - 1].percentile);
  const y0 = Math.floor(Math.log10(Math.min(...values)));
  const y1 = Math.max(y0 + 1, Math.ceil(Math.log10(Math.max(...values))));
  const x = (p: number) => m.l + ((nines(p) - x0) / Math.max(1e-9, x1 - x0)) * (W - m.l - m.r);
  const y = (ms: number) => H - m.b - ((Math.log10(ms) - y0) / (y1 - y0)) * (H - m.t - m.b);
  const grid: string[] = [];
  for (const r of rungs) {
    grid.push(`<line x1="${x(r.percentile).toFixed(1)}" x2="${x(r.percentile).toFixed(1)}" y1="${m.t}" y2="${H - m.b}" stroke="#ddd"/><text x="${x(r.percentile).toFixed(1)}" y="${H - m.b + 16}" text-anchor="middle" font-size="11">p${r.percentile}</text>`);
  }
  for (let d = y0; d <= y1; d++) {
    const ms = 10 ** d;
    const label = ms >= 1000 ? `${ms / 1000} s` : `${ms} ms`;
    grid.push(`<line x1="${m.l}" x2="${W - m.r}" y1="${y(ms).toFixed(1)}" y2="${y(ms).toFixed(1)}" stroke="#ddd"/><text x="${m.l - 6}" y="${(y(ms) + 4).toFixed(1)}" text-anchor="end" font-size="11">${label}</text>`);
  }
  const line = (b: 'legacy' | 'candidate', dash: string) => {
    const pts = rungs.filter((r) => r[b] !== null && r[b]! > 0);
    const d = pts.map((r, i) => `${i === 0 ? 'M' : 'L'}${x(r.percentile).toFixed(1)},${y(r[b]!).toFixed(1)}`).join(' ');
    const dots = pts.map((r) => `<circle cx="${x(r.percentile).toFixed(1)}" cy="${y(r[b]!).toFixed(1)}" r="3" fill="${COLORS[b]}"><title>${b} p${r.percentile}: ${r[b]!.toFixed(2)} ms</title></circle>`).join('');
    const last = pts.at(-1);
    const label = last ? `<text x="${W - m.r + 6}" y="${(y(last[b]!) + 4).toFixed(1)}" font-size="12" fill="${COLORS[b]}">${b}</text>` : '';
    return `<path d="${d}" fill="none" stroke="${COLORS[b]}" stroke-width="2"${dash}/>${dots}${label}`;
  };
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(title)}">
<text x="${m.l}" y="16" font-size="13" font-weight="bold">${esc(title)}</text>
${grid.join('\n')}
<line x1="${m.l}" x2="${W - m.r}" y1="${H - m.b}" y2="${H - m.b}" stroke="#333"/><line x1="${m.l}" x2="${m.l}" y1="${m.t}" y2="${H - m.b}" stroke="#333"/>
<text x="${(W - m.r + m.l) / 2}" y="${H - 8}" text-anchor="middle" font-size="11">percentile (spaced by nines: p90, p99, p99.9 …)</text>
<text x="14" y="${(H - m.b + m.t) / 2}" transform="rotate(-90 14 ${(H - m.b + m.t) / 2})" text-anchor="middle" font-size="11">latency (log scale)</text>
${line('legacy', '')}
${line('candidate', ' stroke-dasharray="6 3"')}
</svg>`;
}

function sectionTable(s: Section): string {
  const f = (x: number, unit: string) => (unit === 'rate' ? `${(100 * x).toFixed(2)} %` : unit === 'ms' ? x.toFixed(2) : unit === 'req/s' ? x.toFixed(1) : String(x));
  const interval = (l: Section['lines'][number]) =>
    !l.interval ? '' : l.interval.of === 'difference' ? `Δ ${f(l.interval.lower, 'rate')}..${l.interval.upper === null ? '∞' : f(l.interval.upper, 'rate')}` : `${l.interval.lower.toFixed(2)}..${l.interval.upper === null ? '∞' : l.interval.upper.toFixed(2)}`;
  const rows = s.lines
    .map((l) => `<tr><td>${esc(l.metric)}</td><td>${f(l.legacy, l.unit)}</td><td>${f(l.candidate, l.unit)}</td><td>${l.share ? `share ${(100 * l.share.legacy).toFixed(1)} % / ${(100 * l.share.candidate).toFixed(1)} %` : l.ratio === null ? '-' : `${l.ratio.toFixed(2)}×`}</td><td>${esc(interval(l))}</td><td class="v-${l.verdict.replace(/ /g, '-')}">${esc(lineVerdict(l.verdict))}</td></tr>`)
    .join('\n');
  return `<table><thead><tr><th>metric</th><th>legacy</th><th>candidate</th><th>ratio</th><th>interval</th><th>compared with legacy</th></tr></thead><tbody>\n${rows}\n</tbody></table>`;
}

export function renderHtml(r: Report): string {
  const routes = r.routes
    .map((route) => {
      const criteria = route.criteria.length === 0 ? '' : `<h3>Success criteria</h3><ul>${route.criteria.map((c) => `<li>${esc(c.criterion)} ≤ ${c.limit}: <b>${esc(c.outcome)}</b> (observed ${c.observed === null ? 'no data' : c.observed.toFixed(4)})</li>`).join('')}</ul>`;
      const parity = route.parity ? `<h3>Parity</h3><ul>${parityLines(route.parity).map((l) => `<li>${esc(l.trim())}</li>`).join('')}</ul>` : '';
      const deciding = route.deciding.length === 0 ? '' : `<ul class="deciding">${route.deciding.map((d) => `<li>decided by ${esc(d)}</li>`).join('')}</ul>`;
      return `<section><h2>Route ${esc(route.name)}: ${esc(headline(route.answer))}</h2>${deciding}<p>Candidate at ${route.candidatePercent} %; compared with legacy: ${esc(route.verdict)}.</p>
${ladderSvg(route.ladder, `${route.name}: latency at each percentile since start`)}
<h3>Since start (${Math.round(route.sinceStart.seconds)} s): ${esc(route.sinceStart.verdict)}</h3>${sectionTable(route.sinceStart)}
<h3>Last ${route.window.seconds} s: ${esc(route.window.verdict)}</h3>${sectionTable(route.window)}
${parity}${criteria}</section>`;
    })
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>cutover migration scorecard</title>
<style>body{font:14px system-ui,sans-serif;margin:2em;max-width:60em}table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:2px 8px;text-align:right}td:first-child,th:first-child{text-align:left}.v-better{color:#080}.v-worse{color:#b00;font-weight:bold}.v-not-enough-data{color:#888}</style>
</head><body>
<h1>Does the candidate meet our criteria? ${esc(headline(r.answer))}</h1>
<p>Generated ${esc(r.generatedAt)}. Ratios are candidate / legacy; intervals are bounds at ${(100 * r.confidence).toFixed(1)} % confidence each side (Δ: candidate − legacy).</p>
${routes}
</body></html>
`;
}
