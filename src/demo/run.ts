// `cutover demo`: two built-in backends, the proxy on config/demo.yaml, a bounded loopback load,
// a ramp started on the default route, a table every two seconds, the ramp's, the guard's and
// parity's decisions as `>>>` lines, and the scorecard at the end. Everything stays on 127.0.0.1
// and stops by itself. Logs go to stderr at error level only: the demo's output is its table and
// events.
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { App } from '../app.js';
import type { Config } from '../config/schema.js';
import { loadConfigFile } from '../config/load.js';
import { describe } from '../control/control.js';
import { pino } from 'pino';
import { createLogger, type Logger } from '../log.js';
import { renderText } from '../report/render-text.js';
import { startDemoBackend, type DemoBackend, type Fault } from './backend.js';
import { firstMismatch, parityLines } from './parity.js';
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

interface Demo {
  app: App;
  cfg: Config;
  legacy: DemoBackend;
  candidate: DemoBackend;
  close(): Promise<void>;
}

/** The backends and the proxy on the demo config, pointed at each other; closed by close(). */
async function startDemo(opts: DemoOptions): Promise<Demo> {
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
  return { app, cfg, legacy, candidate, close };
}

/** The ramp's and the guard's changes as they happen (the point of the product); returns the unsubscribe. */
function announce(app: App, out: (t: string) => void): () => void {
  return app.control.onChange((c) => {
    if (c.kind === 'ramp') out(`\n>>> ramp: ${describe(c)}`);
    else if (c.source === 'guard' && (c.kind === 'split' || c.to === 'reverted' || c.to === 'breach-detected' || c.to === 'would-revert')) {
      out(`\n>>> guard: ${describe(c)}`);
    }
  });
}

/** The load: orders (sticky by user) on the default route, a user on the users route. */
function startLoad(target: string, opts: DemoOptions, duration: number): { finished: Promise<void>; stop(): void } {
  let users = 0;
  let done!: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));
  const requests = [
    { method: 'GET' as const, path: '/api/v1/orders', setupRequest: (req: Record<string, any>) => ({ ...req, headers: { ...req.headers, 'x-user-id': `user-${users++ % 5000}` } }) },
    { method: 'GET' as const, path: '/api/v1/users/42' },
  ];
  const load = autocannon({ url: target, connections: 10, duration, overallRate: opts.rate ?? 200, requests }, () => done());
  return { finished, stop: () => load.stop() };
}

/** The table every tick: both backends, the split, the ramps, the guard and parity. */
function statusText(d: Demo, started: number): string {
  const { app, cfg } = d;
  const guard = Object.entries(app.guard.status().routes)
    .map(([name, r]) => `  ${name}: ${r.state}${r.latch ? ` (${r.latch.rule}: ${r.latch.reason})` : r.lastVerdict ? ` (${r.lastVerdict.summary})` : ''}`)
    .join('\n');
  const ramp = Object.entries(app.ramp?.status().routes ?? {})
    .map(([name, r]) => `  ${name}: ${r.state}${r.step === null ? '' : ` ${r.step}/${r.steps.length}`} at ${r.candidatePercent} %${r.message ? ` (${r.message})` : ''}`)
    .join('\n');
  const parity = parityLines(app.parity, cfg.routes);
  return (
    `${renderTable(backendTotals(app.stats), `\n[${Math.round((Date.now() - started) / 1000)} s] last ${cfg.stats.windowSeconds} s`)}\n` +
    `split: ${app.control.routes().map((r) => `${r} ${app.control.percent(r)} %`).join(', ')}\nramp:\n${ramp}\nguard:\n${guard}` +
    (parity ? `\nparity:\n${parity}` : '')
  );
}

/** Print the table, and the first mismatch of each shadowed route once, when parity catches it. */
function printer(d: Demo, out: (t: string) => void, started: number): () => void {
  const caught = new Set<string>();
  return () => {
    for (const r of d.cfg.routes.filter((x) => x.shadow !== undefined && !caught.has(x.name))) {
      const first = firstMismatch(d.app.parity, r.name);
      if (first) {
        caught.add(r.name);
        out(`\n>>> ${first}`);
      }
    }
    out(statusText(d, started));
  };
}

export async function runDemo(opts: DemoOptions = {}) {
  const out = opts.out ?? ((t: string) => process.stdout.write(t + '\n'));
  const duration = opts.durationSeconds ?? 60;
  const d = await startDemo(opts);
  const { app, cfg, legacy, candidate } = d;
  const started = Date.now();
  const target = `http://127.0.0.1:${app.proxyAddress!.port}`;
  out(`cutover demo: proxy on ${target}, legacy ${legacy.url} (~20 ms), candidate ${candidate.url} (~10 ms, forgets the discount in an order's total); ${duration} s, Ctrl-C stops`);
  const unsubscribe = announce(app, out);
  // The ramp on every route that has one (config/demo.yaml: default, 5 s holds).
  if (cfg.routes.some((r) => r.ramp !== undefined)) app.ramp?.command('start', { source: 'api', reason: 'demo' });
  const load = startLoad(target, opts, duration);
  const faultTimer =
    opts.fault !== undefined && opts.fault !== 'none'
      ? setTimeout(() => {
          candidate.fault = opts.fault!;
          out(`\n>>> the candidate starts failing now (${opts.fault})\n`);
        }, (opts.faultAfterSeconds ?? 20) * 1000)
      : undefined;
  const print = printer(d, out, started);
  const ticker = setInterval(print, opts.printEveryMs ?? 2000);
  opts.signal?.addEventListener('abort', load.stop, { once: true });
  try {
    await load.finished;
  } finally {
    clearInterval(ticker);
    unsubscribe();
    if (faultTimer) clearTimeout(faultTimer);
    opts.signal?.removeEventListener('abort', load.stop);
  }
  const totals = backendTotals(app.stats);
  print();
  // The closing summary: the migration scorecard, as `cutover report` prints it.
  const report = await app.report();
  out(`\n${renderText(report)}`);
  await d.close();
  return { totals, app, report };
}
