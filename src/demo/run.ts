// `cutover demo`: two built-in backends, the proxy on config/demo.yaml, a bounded loopback load,
// a ramp started on the default route, a table every two seconds, the ramp's and the guard's
// decisions as `>>>` lines, and the scorecard at the end. Everything stays on 127.0.0.1 and stops
// by itself. Logs go to stderr at error level only: the demo's output is its table and events.
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { App } from '../app.js';
import { loadConfigFile } from '../config/load.js';
import { describe } from '../control/control.js';
import { pino } from 'pino';
import { createLogger, type Logger } from '../log.js';
import { renderText } from '../report/render-text.js';
import { startDemoBackend, type Fault } from './backend.js';
import { backendTotals, renderTable } from './table.js';

export const DEMO_CONFIG = fileURLToPath(new URL('../../config/demo.yaml', import.meta.url));

export interface DemoOptions {
  configFile?: string;
  durationSeconds?: number;
  /** Requests per second the load generator sends (overall). */
  rate?: number;
  fault?: Fault;
  /** When the candidate starts misbehaving (s after start). */
  faultAfterSeconds?: number;
  /** Override the proxy's and admin's listen ports (0: any free port). */
  port?: number;
  printEveryMs?: number;
  out?: (text: string) => void;
  logger?: Logger;
  signal?: AbortSignal;
}

export async function runDemo(opts: DemoOptions = {}) {
  const out = opts.out ?? ((t: string) => process.stdout.write(t + '\n'));
  const duration = opts.durationSeconds ?? 60;
  const { config } = loadConfigFile(opts.configFile ?? DEMO_CONFIG);
  const legacy = await startDemoBackend('legacy', 20);
  const candidate = await startDemoBackend('candidate', 10);
  const cfg = structuredClone(config);
  cfg.backends.legacy.upstreams = [legacy.url];
  cfg.backends.candidate.upstreams = [candidate.url];
  if (opts.port !== undefined) {
    cfg.listen.port = opts.port;
    cfg.admin.port = opts.port;
  }
  const app = new App({ config: cfg, logger: opts.logger ?? createLogger('error', pino.destination(2)) });
  const started = Date.now();
  const close = async () => {
    await app.close(2000);
    await Promise.all([legacy.close(), candidate.close()]);
  };
  try {
    await app.start();
  } catch (err) {
    await close();
    throw err;
  }
  const target = `http://127.0.0.1:${app.proxyAddress!.port}`;
  out(`cutover demo: proxy on ${target}, legacy ${legacy.url} (~20 ms), candidate ${candidate.url} (~10 ms); ${duration} s, Ctrl-C stops`);
  // Show the ramp's and the guard's decisions as they happen: the point of the product.
  const unsubscribe = app.control.onChange((c) => {
    if (c.kind === 'ramp') out(`\n>>> ramp: ${describe(c)}`);
    else if (c.source === 'guard' && (c.kind === 'split' || c.to === 'reverted' || c.to === 'breach-detected' || c.to === 'would-revert')) {
      out(`\n>>> guard: ${describe(c)}`);
    }
  });
  // The ramp on every route that has one (config/demo.yaml: default, 5 s holds).
  if (cfg.routes.some((r) => r.ramp !== undefined)) app.ramp?.command('start', { source: 'api', reason: 'demo' });
  let users = 0;
  let loadDone!: () => void;
  const finished = new Promise<void>((resolve) => (loadDone = resolve));
  const load = autocannon({
    url: target,
    connections: 10,
    duration,
    overallRate: opts.rate ?? 200,
    requests: [
      {
        method: 'GET',
        path: '/api/v1/orders',
        setupRequest: (req) => ({ ...req, headers: { ...req.headers, 'x-user-id': `user-${users++ % 5000}` } }),
      },
      { method: 'GET', path: '/api/v1/users/42' },
    ],
  }, () => loadDone());
  const faultTimer =
    opts.fault !== undefined && opts.fault !== 'none'
      ? setTimeout(() => {
          candidate.fault = opts.fault!;
          out(`\n>>> the candidate starts failing now (${opts.fault})\n`);
        }, (opts.faultAfterSeconds ?? 20) * 1000)
      : undefined;
  const guardLines = () =>
    Object.entries(app.guard.status().routes)
      .map(([name, r]) => `  ${name}: ${r.state}${r.latch ? ` (${r.latch.rule}: ${r.latch.reason})` : r.lastVerdict ? ` (${r.lastVerdict.summary})` : ''}`)
      .join('\n');
  const rampLines = () =>
    Object.entries(app.ramp?.status().routes ?? {})
      .map(([name, r]) => `  ${name}: ${r.state}${r.step === null ? '' : ` ${r.step}/${r.steps.length}`} at ${r.candidatePercent} %${r.message ? ` (${r.message})` : ''}`)
      .join('\n');
  const print = () =>
    out(
      `${renderTable(backendTotals(app.stats), `\n[${Math.round((Date.now() - started) / 1000)} s] last ${cfg.stats.windowSeconds} s`)}\n` +
        `split: ${app.control.routes().map((r) => `${r} ${app.control.percent(r)} %`).join(', ')}\nramp:\n${rampLines()}\nguard:\n${guardLines()}`,
    );
  const ticker = setInterval(print, opts.printEveryMs ?? 2000);
  const stop = () => load.stop();
  opts.signal?.addEventListener('abort', stop, { once: true });
  try {
    await finished;
  } finally {
    clearInterval(ticker);
    unsubscribe();
    if (faultTimer) clearTimeout(faultTimer);
    opts.signal?.removeEventListener('abort', stop);
  }
  const totals = backendTotals(app.stats);
  print();
  // The closing summary: the migration scorecard, as `cutover report` prints it.
  const report = await app.report();
  out(`\n${renderText(report)}`);
  await close();
  return { totals, app, report };
}
