// The migration workflow's commands: the ramp, the scorecard, the history of changes.
import { writeFileSync } from 'node:fs';
import { callAdmin } from '../client/admin-client.js';
import type { Change } from '../control/control.js';
import { describe } from '../control/describe.js';
import type { RampView } from '../ramp/view.js';
import type { Report } from '../report/build.js';
import { renderHtml } from '../report/render-html.js';
import { renderMarkdown, renderText } from '../report/render-text.js';
import { ADMIN_HELP, adminOptions, out, printJson, targetOf, UsageError, warnNotSaved, type Command } from './command.js';

const RAMP_ACTIONS = ['start', 'pause', 'resume', 'promote', 'abort', 'status'];

export function renderRamp(routes: Record<string, RampView>, only?: string): string {
  const lines: string[] = [];
  for (const [name, r] of Object.entries(routes)) {
    if (only !== undefined && name !== only) continue;
    const step = r.step === null ? '' : ` step ${r.step}/${r.steps.length}`;
    const next = r.nextPercent === null ? '' : `, next ${r.nextPercent} %`;
    const left = r.holdLeftSeconds === null ? '' : `, ${r.holdLeftSeconds} s left in the hold of ${r.holdSeconds} s`;
    lines.push(`${name}: ${r.state.toUpperCase()}${step} at ${r.candidatePercent} %${next}${left}  (steps ${r.steps.join(' → ')}; on breach: ${r.onBreach})`);
    if (r.message) lines.push(`  ${r.message}`);
    if (r.evidence && (r.state === 'running' || r.state === 'paused')) {
      const n = r.evidence.comparisons ?? null; // absent from older servers
      const compared = n === null ? '' : `, ${n} shadow comparisons`;
      lines.push(`  evidence since the step began: ${r.evidence.requests.candidate} candidate, ${r.evidence.requests.legacy} legacy requests${compared}`);
      for (const e of r.evidence.rules) lines.push(`    ${e.rule}: ${e.outcome}${e.missing ? `: ${e.missing}` : ''}`);
    }
  }
  return lines.length === 0 ? 'no route has a ramp (routes[].ramp in the config)\n' : lines.join('\n') + '\n';
}

export const migrationCommands: Record<string, Command> = {
  ramp: {
    summary: 'the progressive ramp: start | pause | resume | promote [--full] | abort | status',
    usage: `cutover ramp start|pause|resume|promote|abort|status [--route NAME] [--full] [--reason TEXT] [--json] [--admin URL | --config FILE]${ADMIN_HELP}

  start           set the first step; each next step needs the hold and healthy evidence
  pause, resume   hold the current step for a person, and let it go on
  promote         the next step now (with --route: from the step it sees, so a repeat changes
                  nothing); --full: 100 % now (also while paused)
  abort           back to 0 %; the ramp ends aborted
  status          per route: state, step i/N, weights, time left, evidence so far vs needed
  --route NAME    one route (default: every route with a ramp)`,
    options: { route: { type: 'string' }, full: { type: 'boolean' }, reason: { type: 'string' }, ...adminOptions },
    async run(v, args) {
      if (args.length !== 1 || !RAMP_ACTIONS.includes(args[0])) throw new UsageError(`say one of: ${RAMP_ACTIONS.join(', ')}`);
      if (v.full && args[0] !== 'promote') throw new UsageError('--full only applies to promote');
      const target = targetOf(v);
      const route = v.route as string | undefined;
      if (args[0] === 'status') {
        const r = await callAdmin<{ routes: Record<string, RampView> }>(target, 'GET', '/api/v1/ramp');
        if (v.json) printJson(route === undefined ? r : { routes: { [route]: r.routes[route] } });
        else out(renderRamp(r.routes, route));
        return 0;
      }
      const body: Record<string, unknown> = { route, reason: v.reason };
      if (v.full) body.full = true;
      if (args[0] === 'promote' && !v.full && route !== undefined) {
        // From the step seen now: run twice (or by two people at once), it promotes once.
        const seen = (await callAdmin<{ routes: Record<string, RampView> }>(target, 'GET', '/api/v1/ramp')).routes[route];
        if (typeof seen?.step === 'number') body.fromStep = seen.step;
      }
      const r = await callAdmin<{ changes: Change[]; routes: Record<string, RampView> }>(target, 'POST', `/api/v1/ramp/${args[0]}`, body);
      warnNotSaved(r);
      if (v.json) return printJson(r), 0;
      if (r.changes.length === 0) out(`nothing to change: the ramp is already where ${args[0]} would put it`);
      for (const c of r.changes) out(describe(c));
      out(renderRamp(r.routes, route));
      return 0;
    },
  },
  report: {
    summary: 'the migration scorecard: legacy vs candidate, with intervals and verdicts',
    usage: `cutover report [--json | --markdown | --html --out FILE] [--admin URL | --config FILE]${ADMIN_HELP}

  (default)       a table per route
  --markdown      Markdown, for the go/no-go ticket
  --html          one self-contained HTML file with the latency distributions (needs --out FILE)`,
    options: { markdown: { type: 'boolean' }, html: { type: 'boolean' }, out: { type: 'string', short: 'o' }, ...adminOptions },
    async run(v) {
      if ([v.json, v.markdown, v.html].filter(Boolean).length > 1) throw new UsageError('choose one of --json, --markdown, --html');
      if (v.html && typeof v.out !== 'string') throw new UsageError('--html needs --out FILE');
      const r = await callAdmin<Report>(targetOf(v), 'GET', '/api/v1/report');
      const text = v.json ? JSON.stringify(r, null, 2) + '\n' : v.markdown ? renderMarkdown(r) : v.html ? renderHtml(r) : renderText(r);
      if (typeof v.out === 'string') {
        writeFileSync(v.out, text);
        process.stderr.write(`wrote ${v.out}: overall ${r.verdict}\n`);
      } else process.stdout.write(text);
      return 0;
    },
  },
  history: {
    summary: 'the control changes, newest first (splits, ramps, guard, maintenance)',
    usage: `cutover history [--route NAME] [--limit N] [--json] [--admin URL | --config FILE]${ADMIN_HELP}`,
    options: { route: { type: 'string' }, limit: { type: 'string', default: '50' }, ...adminOptions },
    async run(v) {
      const limit = Number(v.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 500) throw new UsageError(`--limit must be a whole number from 1 to 500, got "${v.limit}"`);
      const r = await callAdmin<{ history: Change[] }>(targetOf(v), 'GET', `/api/v1/history?limit=500`);
      const rows = r.history.filter((c) => v.route === undefined || c.route === v.route).slice(0, limit);
      if (v.json) return printJson({ history: rows }), 0;
      out(rows.length === 0 ? 'no changes yet' : rows.map((c) => `${c.time}  ${describe(c)}`).join('\n'));
      return 0;
    },
  },
};
