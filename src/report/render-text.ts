// The scorecard as a terminal table (cutover report) and as Markdown (for the go/no-go ticket).
// Formatting only: every figure and verdict comes from build.ts.
import { RATE_CRITERIA, type Answer, type CriterionResult, type Line, type LineVerdict, type Report, type RouteReport, type Section } from './build.js';
import type { ParitySection } from './parity.js';

/** A line's verdict says what it is compared with: "worse than legacy", not a bare "worse". */
export const lineVerdict = (v: LineVerdict): string =>
  v === 'better' || v === 'worse' ? `${v} than legacy` : v === 'same' ? 'same as legacy' : v;

/** The headline answers "does the candidate meet our criteria?". */
export function headline(answer: Answer): string {
  return answer === 'no criteria' ? 'no success criteria set (report.criteria)' : `criteria ${answer}`;
}

const pct = (x: number) => `${(100 * x).toFixed(x !== 0 && Math.abs(x) < 0.001 ? 3 : 2)} %`;
const num = (x: number, unit: Line['unit']) =>
  unit === 'rate' ? pct(x) : unit === 'ms' ? x.toFixed(x < 10 ? 2 : 1) : unit === 'req/s' ? x.toFixed(1) : String(Math.round(x));

function ratioCell(l: Line): string {
  if (l.share) return `share ${pct(l.share.legacy)} / ${pct(l.share.candidate)}`;
  if (l.ratio === null && l.interval === null) return '-';
  const r = l.ratio === null ? '-' : `${l.ratio.toFixed(2)}×`;
  if (!l.interval) return r;
  const hi = l.interval.upper === null ? '∞' : l.interval.of === 'difference' ? pct(l.interval.upper) : l.interval.upper.toFixed(2);
  const lo = l.interval.of === 'difference' ? pct(l.interval.lower) : l.interval.lower.toFixed(2);
  return l.interval.of === 'difference' ? `${r} (Δ ${lo}..${hi})` : `${r} (${lo}..${hi})`;
}

const HEAD = ['metric', 'legacy', 'candidate', 'candidate/legacy (interval)', 'compared with legacy'];

function rows(s: Section): string[][] {
  return s.lines.map((l) => [l.metric, num(l.legacy, l.unit), num(l.candidate, l.unit), ratioCell(l), lineVerdict(l.verdict)]);
}

function criterionRow(c: CriterionResult): string[] {
  const rate = RATE_CRITERIA.has(c.criterion);
  const f = (x: number | null) => (x === null ? '∞' : rate ? pct(x) : `${x.toFixed(2)}×`);
  const observed = c.observed === null ? 'no data' : f(c.observed);
  const interval = c.interval ? ` (${f(c.interval.lower)}..${f(c.interval.upper)})` : '';
  return [c.criterion, `at most ${f(c.limit)}`, `${observed}${interval}`, c.outcome];
}

/** The parity section in words: counts, the rate with its interval and verdict, then the fields. */
export function parityLines(p: ParitySection): string[] {
  const paths = (xs: ParitySection['differences']) => xs.map((d) => `${d.path === '' ? '(whole body)' : d.path} (${d.count})`).join(', ');
  const rate = p.mismatchRate === null ? 'no comparisons yet' : `mismatch rate ${pct(p.mismatchRate)}${p.interval ? ` (${pct(p.interval.lower)}..${pct(p.interval.upper)})` : ''}`;
  const verdict = p.verdict === 'no criterion' ? 'no criterion (report.criteria.maxMismatchRate)' : `maxMismatchRate: ${p.verdict}`;
  const out = [`parity (shadow comparisons since start): ${p.compared} compared, ${p.mismatched} mismatched; ${rate}; ${verdict}`];
  if (p.differences.length > 0) out.push(`  differing fields: ${paths(p.differences)}`);
  if (p.noise.length > 0) out.push(`  learned noise (not counted): ${paths(p.noise)}`);
  return out;
}

function table(head: string[], body: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i > 0 && i < 3 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd();
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}

function sectionTitle(name: 'window' | 'since start', s: Section): string {
  return name === 'window' ? `last ${s.seconds} s` : `since start (${Math.round(s.seconds)} s)`;
}

export function renderText(r: Report): string {
  const out = [
    `migration scorecard: does the candidate meet our criteria? ${headline(r.answer).toUpperCase()}   (${r.generatedAt}; bounds at ${(100 * r.confidence).toFixed(1)} % confidence each side)`,
  ];
  for (const route of r.routes) {
    out.push('', `route ${route.name} (candidate ${route.candidatePercent} %): ${headline(route.answer).toUpperCase()}; compared with legacy: ${route.verdict}`);
    for (const d of route.deciding) out.push(`  decided by ${d}`);
    for (const [name, s] of [['since start', route.sinceStart], ['window', route.window]] as const) {
      out.push('', `  ${sectionTitle(name, s)}: ${s.verdict}`, indent(table(HEAD, rows(s))));
    }
    if (route.parity) out.push('', ...parityLines(route.parity).map((l) => `  ${l}`));
    if (route.criteria.length > 0) out.push('', '  success criteria (since start)', indent(table(['criterion', 'limit', 'observed (interval)', 'outcome'], route.criteria.map(criterionRow))));
  }
  return out.join('\n') + '\n';
}

const indent = (s: string) => s.split('\n').map((l) => `    ${l}`).join('\n');

function mdTable(head: string[], body: string[][]): string {
  const esc = (c: string) => c.replace(/\|/g, '\\|');
  return [`| ${head.map(esc).join(' | ')} |`, `| ${head.map((_, i) => (i > 0 && i < 3 ? '---:' : '---')).join(' | ')} |`, ...body.map((r) => `| ${r.map(esc).join(' | ')} |`)].join('\n');
}

function mdRoute(route: RouteReport): string[] {
  const out = [`## Route \`${route.name}\`: ${headline(route.answer)}`, '', `Candidate at ${route.candidatePercent} %; compared with legacy: ${route.verdict}.`];
  if (route.deciding.length > 0) out.push('', ...route.deciding.map((d) => `- decided by ${d}`));
  for (const [name, s] of [['since start', route.sinceStart], ['window', route.window]] as const) {
    out.push('', `### ${sectionTitle(name, s)}: ${s.verdict}`, '', mdTable(HEAD, rows(s)));
  }
  if (route.parity) out.push('', '### Parity', '', ...parityLines(route.parity).map((l) => (l.startsWith('  ') ? `- ${l.trim()}` : l)));
  if (route.criteria.length > 0) out.push('', '### Success criteria (since start)', '', mdTable(['criterion', 'limit', 'observed (interval)', 'outcome'], route.criteria.map(criterionRow)));
  return out;
}

export function renderMarkdown(r: Report): string {
  return [
    `# Migration scorecard: ${r.answer === 'no criteria' ? `**${headline(r.answer)}**` : `criteria **${r.answer}**`}`,
    '',
    `Generated ${r.generatedAt}. Intervals: candidate/legacy ratio for latencies, candidate − legacy (Δ) for rates; each bound at ${(100 * r.confidence).toFixed(1)} % confidence. A ratio within 1/1.1..1.1 or a Δ within ±0.5 points counts as the same.`,
    '',
    ...r.routes.flatMap((route) => [...mdRoute(route), '']),
  ].join('\n');
}
