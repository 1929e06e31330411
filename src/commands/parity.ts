// `cutover parity`: replay a cases file against a legacy node and a candidate node and report
// where the answers differ. Exit 0 all matched, 1 any mismatch or error, 2 bad input.
import { readFileSync, writeFileSync } from 'node:fs';
import { loadConfigFile } from '../config/load.js';
import { EXIT_CONFIG } from '../errors.js';
import { InputError, parseCases, replay, routeByName, type CaseResult, type ReplaySummary } from '../parity/replay.js';
import { callAdmin } from '../client/admin-client.js';
import { renderParity, type ParityBody } from '../client/render-parity.js';
import { out, printJson, targetOf, type Command, type Values } from './command.js';

/** The largest cases file read; a replay set is a sample, not a traffic archive. */
const MAX_CASES_BYTES = 64 * 1024 * 1024;

const requestLine = (r: CaseResult) => `${r.case.method} ${r.case.path}`;
const label = (r: CaseResult) => (r.case.name !== undefined ? `${r.case.name} (${requestLine(r)})` : requestLine(r));
const shown = (v: string | undefined) => (v === undefined ? '(absent)' : v);

export function summaryLine(s: ReplaySummary): string {
  return `parity: ${s.cases} cases, ${s.matched} matched, ${s.mismatched} mismatched, ${s.errors} errors`;
}

export function renderText(s: ReplaySummary): string {
  const lines: string[] = [];
  for (const r of s.results) {
    if (r.outcome === 'mismatched') {
      lines.push(`MISMATCH ${label(r)}: legacy ${r.legacyStatus}, candidate ${r.candidateStatus}${r.route ? ` (route ${r.route})` : ''}`);
      for (const d of r.differences) lines.push(`  ${d.path}: legacy ${shown(d.primary)}, candidate ${shown(d.shadow)}`);
      if (r.more > 0) lines.push(`  ... and ${r.more} more differences`);
    } else if (r.outcome === 'error') {
      lines.push(`ERROR ${label(r)}: ${r.error}`);
    }
  }
  lines.push(summaryLine(s));
  return lines.join('\n') + '\n';
}

export function toJson(s: ReplaySummary): unknown {
  return {
    cases: s.cases,
    matched: s.matched,
    mismatched: s.mismatched,
    errors: s.errors,
    results: s.results.map((r) => ({
      line: r.case.line,
      ...(r.case.name !== undefined ? { name: r.case.name } : {}),
      method: r.case.method,
      path: r.case.path,
      route: r.route ?? null,
      outcome: r.outcome,
      legacyStatus: r.legacyStatus ?? null,
      candidateStatus: r.candidateStatus ?? null,
      differences: r.differences.map((d) => ({ path: d.path, legacy: d.primary ?? null, candidate: d.shadow ?? null })),
      more: r.more,
      ...(r.error !== undefined ? { error: r.error } : {}),
    })),
  };
}

/** XML 1.0 text: the five special characters escaped, characters XML cannot carry replaced. */
export function xmlEscape(s: string): string {
  return s
    .replace(/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '\uFFFD')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

export function renderJunit(s: ReplaySummary): string {
  const cases = s.results.map((r) => {
    const attrs = `classname="${xmlEscape(`cutover parity.${r.route ?? '(no route)'}`)}" name="${xmlEscape(r.case.name ?? requestLine(r))}"`;
    if (r.outcome === 'matched') return `    <testcase ${attrs}/>`;
    if (r.outcome === 'error') return `    <testcase ${attrs}>\n      <error message="${xmlEscape(r.error ?? 'error')}">${xmlEscape(`${requestLine(r)}: ${r.error}`)}</error>\n    </testcase>`;
    const detail = [
      `${requestLine(r)}: legacy ${r.legacyStatus}, candidate ${r.candidateStatus}`,
      ...r.differences.map((d) => `${d.path}: legacy ${shown(d.primary)}, candidate ${shown(d.shadow)}`),
      ...(r.more > 0 ? [`... and ${r.more} more differences`] : []),
    ].join('\n');
    const n = r.differences.length + r.more;
    const message = `${n} difference${n === 1 ? '' : 's'}: ${r.differences.map((d) => d.path).join(', ')}`;
    return `    <testcase ${attrs}>\n      <failure message="${xmlEscape(message)}" type="mismatch">${xmlEscape(detail)}</failure>\n    </testcase>`;
  });
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="cutover parity" tests="${s.cases}" failures="${s.mismatched}" errors="${s.errors}">`,
    `  <testsuite name="cutover parity" tests="${s.cases}" failures="${s.mismatched}" errors="${s.errors}" skipped="0">`,
    ...cases,
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}

/** `cutover parity status`: the live figures of a running cutover, as a table (or the API's JSON). */
async function parityStatus(v: Values): Promise<number> {
  const target = targetOf(v);
  const parity = await callAdmin<ParityBody>(target, 'GET', '/api/v1/parity');
  const shares = await callAdmin<{ routes: Record<string, number> }>(target, 'GET', '/api/v1/shadow');
  if (v.json) printJson(parity);
  else out(renderParity(parity, shares.routes));
  return 0;
}

function fail(message: string): number {
  process.stderr.write(`cutover parity: ${message}\n`);
  return EXIT_CONFIG;
}

export const parityCommands: Record<string, Command> = {
  parity: {
    summary: 'replay a cases file against legacy and candidate and compare the answers (parity)',
    usage: `cutover parity --cases FILE [--config FILE] [--route NAME] [--concurrency N] [--json | --junit OUT]
       cutover parity status [--json] [--admin URL | --config FILE]

  --cases FILE      JSON Lines, one request a line: {"name": "...", "method": "GET", "path": "/orders/1",
                    "headers": {"accept": "application/json"}, "body": "..." or "bodyBase64": "..."}
                    (path required; method default GET; blank lines ignored)
  --config FILE     cutover's config: the backends (the first node of each) and the routes'
                    shadow.compare rules (default: $CUTOVER_CONFIG, else config/cutover.yaml)
  --route NAME      compare every case with this route's rules (default: the route each path matches)
  --concurrency N   cases in flight at once (default 8)
  --json            print one JSON object instead of text
  --junit OUT       also write JUnit XML to OUT (testsuite "cutover parity", one testcase per case)

  status            a running cutover's live shadow parity, one row per route: its shadow share,
                    compared, mismatched, the mismatch rate, errors, the top differing paths and
                    the noise learned (the admin API: --admin URL, else --config FILE's admin
                    listener, else $CUTOVER_ADMIN_URL; the token from CUTOVER_ADMIN_TOKEN)

  Exit codes: 0 every case matched, 1 a mismatch or a case that could not be sent (refused,
  timed out: the backend's timeouts.responseMs), 2 bad input (a cases line, the config, --route).`,
    options: {
      cases: { type: 'string' },
      config: { type: 'string', short: 'c' },
      admin: { type: 'string' },
      route: { type: 'string' },
      concurrency: { type: 'string', default: '8' },
      json: { type: 'boolean' },
      junit: { type: 'string' },
    },
    async run(v, positionals) {
      if (positionals[0] === 'status' && positionals.length === 1) return parityStatus(v);
      if (positionals.length > 0) return fail(`unexpected argument "${positionals[0]}" (usage: cutover parity --cases FILE --config FILE)`);
      if (v.cases === undefined) return fail('--cases FILE is required');
      if (v.json && v.junit !== undefined) return fail('give --json or --junit OUT, not both');
      const concurrency = Number(v.concurrency);
      if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 1024) return fail(`--concurrency must be a whole number from 1 to 1024, got "${v.concurrency}"`);
      const { config } = loadConfigFile(String(v.config ?? process.env.CUTOVER_CONFIG ?? 'config/cutover.yaml')); // a ConfigError exits 2 naming the field
      const casesFile = String(v.cases);
      let text: string;
      try {
        text = readFileSync(casesFile, 'utf8');
      } catch (err) {
        return fail(`${casesFile}: cannot read the file: ${(err as Error).message}`);
      }
      if (Buffer.byteLength(text) > MAX_CASES_BYTES) return fail(`${casesFile}: larger than ${MAX_CASES_BYTES / 1024 / 1024} MB`);
      let summary: ReplaySummary;
      try {
        const cases = parseCases(text, casesFile);
        if (cases.length === 0) return fail(`${casesFile}: no cases (one JSON object a line)`);
        if (v.route !== undefined) routeByName(config, String(v.route));
        summary = await replay(config, cases, { route: v.route as string | undefined, concurrency });
      } catch (err) {
        if (err instanceof InputError) return fail(err.message);
        throw err;
      }
      if (v.json) out(JSON.stringify(toJson(summary), null, 2));
      else process.stdout.write(renderText(summary));
      if (v.junit !== undefined) writeFileSync(String(v.junit), renderJunit(summary));
      return summary.mismatched === 0 && summary.errors === 0 ? 0 : 1;
    },
  },
};
