// The scorecard as one self-contained HTML file: the Markdown's tables as HTML and, per route, an
// inline SVG of both backends' latency distributions on a log scale. No script, no stylesheet or
// font from the network: it opens anywhere, offline.
import type { Bucket } from './latency.js';
import type { Report, Section } from './build.js';

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

function sectionTable(s: Section): string {
  const f = (x: number, unit: string) => (unit === 'rate' ? `${(100 * x).toFixed(2)} %` : unit === 'ms' ? x.toFixed(2) : unit === 'req/s' ? x.toFixed(1) : String(x));
  const interval = (l: Section['lines'][number]) =>
    !l.interval ? '' : l.interval.of === 'difference' ? `Δ ${f(l.interval.lower, 'rate')}..${l.interval.upper === null ? '∞' : f(l.interval.upper, 'rate')}` : `${l.interval.lower.toFixed(2)}..${l.interval.upper === null ? '∞' : l.interval.upper.toFixed(2)}`;
  const rows = s.lines
    .map((l) => `<tr><td>${esc(l.metric)}</td><td>${f(l.legacy, l.unit)}</td><td>${f(l.candidate, l.unit)}</td><td>${l.ratio === null ? '-' : `${l.ratio.toFixed(2)}×`}</td><td>${esc(interval(l))}</td><td class="v-${l.verdict.replace(/ /g, '-')}">${esc(l.verdict)}</td></tr>`)
    .join('\n');
  return `<table><thead><tr><th>metric</th><th>legacy</th><th>candidate</th><th>ratio</th><th>interval</th><th>verdict</th></tr></thead><tbody>\n${rows}\n</tbody></table>`;
}

export function renderHtml(r: Report): string {
  const routes = r.routes
    .map((route) => {
      const criteria = route.criteria.length === 0 ? '' : `<h3>Success criteria</h3><ul>${route.criteria.map((c) => `<li>${esc(c.criterion)} ≤ ${c.limit}: <b>${esc(c.outcome)}</b> (observed ${c.observed === null ? 'no data' : c.observed.toFixed(4)})</li>`).join('')}</ul>`;
      return `<section><h2>Route ${esc(route.name)}: ${esc(route.verdict)}</h2><p>Candidate at ${route.candidatePercent} %.</p>
${distributionSvg(route.distribution, `${route.name}: latency distribution since start`)}
<h3>Since start (${Math.round(route.sinceStart.seconds)} s): ${esc(route.sinceStart.verdict)}</h3>${sectionTable(route.sinceStart)}
<h3>Last ${route.window.seconds} s: ${esc(route.window.verdict)}</h3>${sectionTable(route.window)}
${criteria}</section>`;
    })
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>cutover migration scorecard</title>
<style>body{font:14px system-ui,sans-serif;margin:2em;max-width:60em}table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:2px 8px;text-align:right}td:first-child,th:first-child{text-align:left}.v-better{color:#080}.v-worse{color:#b00;font-weight:bold}.v-not-enough-data{color:#888}</style>
</head><body>
<h1>Migration scorecard: ${esc(r.verdict)}</h1>
<p>Generated ${esc(r.generatedAt)}. Ratios are candidate / legacy; intervals are bounds at ${(100 * r.confidence).toFixed(1)} % confidence each side (Δ: candidate − legacy).</p>
${routes}
</body></html>
`;
}
