// The migration scorecard: both backends side by side with their figures, the candidate/legacy
// ratios with intervals, a verdict per line and overall, the configured criteria judged; and the
// HTML scorecard as one self-contained file.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { runCli } from './helpers/process.js';
import { admin, startBackend, startProxy, testConfig } from './helpers/servers.js';

it('reports legacy vs candidate with figures, intervals and verdicts, as JSON and as HTML', async () => {
  // Legacy answers after ~20 ms, the candidate at once, and 1 in 4 candidate answers is a 500.
  let n = 0;
  const legacy = await startBackend((req, res) => (req.resume(), setTimeout(() => res.end('legacy'), 20)));
  const candidate = await startBackend((req, res) => {
    req.resume();
    res.statusCode = n++ % 4 === 0 ? 500 : 200;
    res.end('candidate');
  });
  const proxy = await startProxy(
    testConfig([legacy.url], [candidate.url], {
      routes: [{ name: 'default', match: { pathPrefix: '/' }, candidatePercent: 50 }],
      report: { confidence: 0.99, criteria: { p50Ratio: 0.5, maxErrorRate: 0.01 } },
    }),
  );
  try {
    await Promise.all(Array.from({ length: 10 }, async () => {
      for (let i = 0; i < 40; i++) await (await fetch(proxy.url)).text();
    }));
    const { status, body: r } = await admin(proxy.admin, 'GET', '/api/v1/report');
    expect(status).toBe(200);
    const route = r.routes[0];
    expect(route.name).toBe('default');
    for (const s of [route.window, route.sinceStart]) {
      for (const b of ['legacy', 'candidate']) {
        expect(s[b]).toMatchObject({ requests: expect.any(Number), throughput: expect.any(Number), errorRate: expect.any(Number), status: expect.any(Object), transport: expect.any(Object) });
        expect(Object.keys(s[b].latencyMs)).toEqual(['count', 'mean', 'p50', 'p90', 'p95', 'p99', 'p999', 'max']);
      }
      expect(s.legacy.requests + s.candidate.requests).toBe(400);
      expect(s.lines.map((l: { metric: string }) => l.metric)).toEqual(
        expect.arrayContaining(['requests', 'throughput', 'error rate', '4xx rate', '5xx rate', 'refused rate', 'timeout rate', 'mean', 'p50', 'p90', 'p95', 'p99', 'p99.9', 'max']),
      );
    }
    const line = (metric: string) => route.sinceStart.lines.find((l: { metric: string }) => l.metric === metric);
    // Faster: the p50 ratio's whole interval is below 1. Worse: the error rate difference is above 0.
    expect(line('p50')).toMatchObject({ verdict: 'better', interval: { of: 'ratio' } });
    expect(line('p50').interval.upper).toBeLessThan(1);
    expect(line('error rate')).toMatchObject({ verdict: 'worse', interval: { of: 'difference' } });
    expect(line('error rate').interval.lower).toBeGreaterThan(0);
    expect(route.criteria).toEqual([
      expect.objectContaining({ criterion: 'p50Ratio', limit: 0.5, outcome: 'met' }),
      expect.objectContaining({ criterion: 'maxErrorRate', limit: 0.01, outcome: 'missed' }),
    ]);
    expect(route.verdict).toBe('worse');
    expect(r.verdict).toBe('worse');
    // The headline answers the criteria; the missed one decides it, in words.
    expect(route.answer).toBe('missed');
    expect(r.answer).toBe('missed');
    expect(route.deciding).toEqual([expect.stringMatching(/^maxErrorRate: .*limit 1\.00 %: missed$/)]);
    // Throughput is the split's doing: each side's share, no candidate/legacy ratio.
    const throughput = line('throughput');
    expect(throughput.ratio).toBeNull();
    expect(throughput.share.legacy + throughput.share.candidate).toBeCloseTo(1, 9);
    expect(route.ladder.map((x: { percentile: number }) => x.percentile)).toEqual([50, 75, 90, 95, 99, 99.9, 99.99]);
    const text = await runCli(['report', '--admin', proxy.admin]);
    expect(text.stdout).toMatch(/^migration scorecard: does the candidate meet our criteria\? CRITERIA MISSED/);
    expect(text.stdout).toMatch(/error rate .* worse than legacy/);

    const out = join(mkdtempSync(join(tmpdir(), 'cutover-report-')), 'scorecard.html');
    const html = await runCli(['report', '--html', '--out', out, '--admin', proxy.admin]);
    expect(html.code, html.stderr).toBe(0);
    const page = readFileSync(out, 'utf8');
    expect(page).toContain('<svg');
    expect(page).toContain('latency (log scale)');
    // Self-contained: nothing to fetch (the SVG namespace is a name, not a request).
    expect(page.match(/(src|href)\s*=|<script|<link|@import|url\(/gi)).toBeNull();
    const md = await runCli(['report', '--markdown', '--admin', proxy.admin]);
    expect(md.stdout).toMatch(/^# Migration scorecard: criteria \*\*missed\*\*/);
    expect(md.stdout).toMatch(/\| p50 \|/);
  } finally {
    await proxy.close();
    await legacy.close();
    await candidate.close();
  }
}, 60_000);
