// `cutover demo`: two built-in backends, the proxy on config/demo.yaml, a bounded loopback load,
// and a table every two seconds. Everything stays on 127.0.0.1 and stops by itself.
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { App } from '../app.js';
import { loadConfigFile } from '../config/load.js';
import { describe } from '../control/control.js';
import { createLogger, type Logger } from '../log.js';
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
  const app = new App({ config: cfg, logger: opts.logger ?? createLogger('warn') });
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
    opts.fault && opts.fault !== 'none'
      ? setTimeout(() => {
          candidate.fault = opts.fault!;
          out(`\n>>> the candidate starts failing now (${opts.fault})\n`);
        }, (opts.faultAfterSeconds ?? 20) * 1000)
      : undefined;
  // Show the guard's decisions as they happen: the point of the product.
  const unsubscribe = app.control.onChange((c) => {
    if (c.source === 'guard' && (c.kind === 'split' || c.to === 'reverted' || c.to === 'breach-detected' || c.to === 'would-revert')) {
      out(`\n>>> guard: ${describe(c)}`);
    }
  });
  const guardLines = () =>
    Object.entries(app.guard.status().routes)
      .map(([name, r]) => `  ${name}: ${r.state}${r.latch ? ` (${r.latch.rule}: ${r.latch.reason})` : r.lastVerdict ? ` (${r.lastVerdict.summary})` : ''}`)
      .join('\n');
  const print = () =>
    out(
      `${renderTable(backendTotals(app.stats), `\n[${Math.round((Date.now() - started) / 1000)} s] last ${cfg.stats.windowSeconds} s`)}\n` +
        `split: ${app.control.routes().map((r) => `${r} ${app.control.percent(r)} %`).join(', ')}\nguard:\n${guardLines()}`,
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
  await close();
  return { totals, app };
}
