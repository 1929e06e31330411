// GET /api/v1/events: the dashboard's live feed as Server-Sent Events (WHATWG HTML, section 9.2).
// One hub per admin listener: while at least one client is connected, one timer builds one status
// snapshot a second and writes the same bytes to every client (20 dashboards cost one snapshot,
// not 20). Control changes (splits, guard verdicts, ramp steps) are written as they happen.
// Memory is bounded: the series are a ring of the last 10 minutes, a client that stops reading
// is dropped once 1 MiB is queued for it, and nothing is kept per past client.
import type { ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import type { Change, Control } from '../control/control.js';
import type { Report } from '../report/build.js';
import { accessOf } from './access.js';
import type { AdminDeps } from './deps.js';
import { fromDataPlane, type LiveView } from './live-view.js';

export { liveFromStats, type LiveBackend, type LiveView } from './live-view.js';

/** Seconds of per-second points kept for the charts (and sent to a page when it connects). */
export const SERIES_SECONDS = 600;
const MAX_QUEUED_BYTES = 1 << 20;
/** The scorecard's summary is rebuilt every few ticks: it decodes every histogram (about 10 ms). */
const SUMMARY_EVERY_TICKS = 10;

interface BackendPoint {
  /** Requests per second over the last tick (from the cumulative counter). */
  rps: number;
  /** Errors by kind as shares of the window's requests. */
  errors: Record<string, number>;
  errorRate: number;
  p50: number | null;
  p90: number | null;
  p99: number | null;
}

/** One second of one route: both backends. */
export interface Point {
  t: number;
  routes: Record<string, { legacy: BackendPoint; candidate: BackendPoint }>;
}

/** The scorecard's answer to "does the candidate meet our criteria?", per route. */
export interface Summary {
  answer: Report['answer'];
  routes: Array<{ name: string; answer: Report['routes'][number]['answer']; deciding: string[]; comparison: string }>;
}

interface Client {
  res: ServerResponse;
}

export class EventHub {
  private readonly clients = new Set<Client>();
  private readonly points: Point[] = [];
  private readonly lastTotals = new Map<string, { t: number; requests: number }>();
  private timer: NodeJS.Timeout | undefined;
  private ticks = 0;
  private summary: Summary | null = null;
  private sequence = 0;
  private readonly unsubscribe: () => void;
  private ticking = false;

  constructor(
    private readonly deps: AdminDeps,
    private readonly live: (() => LiveView) | undefined,
    private readonly clock: () => number = Date.now,
  ) {
    this.unsubscribe = deps.control.onChange((c) => this.broadcast('change', c));
  }

  get connected(): number {
    return this.clients.size;
  }

  /** Take over the response: headers, the hello event (who you are, the recent past), then live events. */
  attach(res: ServerResponse, hello: Record<string, unknown>): void {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      // Proxies in front (an ingress, nginx) must not buffer a stream.
      'x-accel-buffering': 'no',
      'x-content-type-options': 'nosniff',
    });
    const client: Client = { res };
    this.clients.add(client);
    res.on('close', () => {
      this.clients.delete(client);
      if (this.clients.size === 0) this.stop();
    });
    // A reconnecting page waits at least this long (the page also backs off on its own).
    res.write('retry: 1000\n\n');
    res.write(frame(++this.sequence, 'hello', { ...hello, history: this.deps.control.history(100), points: this.points, summary: this.summary }));
    if (!this.timer) {
      this.timer = setInterval(() => void this.tick(), 1000);
      this.timer.unref();
    }
    void this.tick(client);
  }

  close(): void {
    this.unsubscribe();
    this.stop();
    for (const c of this.clients) c.res.end();
    this.clients.clear();
  }

  private stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One status snapshot for every client (or only `only`, a page that just connected). */
  private async tick(only?: Client): Promise<void> {
    if (this.ticking && !only) return;
    if (!only) this.ticking = true;
    try {
      const status = await snapshot(this.deps, this.live);
      if (!only) {
        this.record(status);
        if (this.deps.report && (this.summary === null || ++this.ticks % SUMMARY_EVERY_TICKS === 0)) this.summary = summarize(await this.deps.report());
      }
      const data = frame(++this.sequence, 'status', { ...status, summary: this.summary, point: this.points.at(-1) ?? null });
      if (only) write(only, data, this.clients);
      else for (const c of this.clients) write(c, data, this.clients);
    } catch {
      // a snapshot that failed (a worker busy restarting) is skipped: the next second tries again
    } finally {
      if (!only) this.ticking = false;
    }
  }

  private record(status: Awaited<ReturnType<typeof snapshot>>): void {
    const t = this.clock();
    const point: Point = { t, routes: {} };
    for (const r of status.routes) {
      if (!r.backends) continue;
      const side = (b: 'legacy' | 'candidate'): BackendPoint => {
        const v = r.backends![b];
        let rps = v.lastSecond ?? 0;
        if (v.lastSecond === undefined && v.cumulative) {
          // Merged figures (workers): the rate from the difference of the cumulative counts.
          const key = `${r.name}/${b}`;
          const last = this.lastTotals.get(key);
          this.lastTotals.set(key, { t, requests: v.cumulative.requests });
          const dt = last ? (t - last.t) / 1000 : 0;
          rps = last && dt > 0 ? Math.max(0, v.cumulative.requests - last.requests) / dt : 0;
        }
        const n = v.window.requests;
        const errors = Object.fromEntries(Object.entries(v.window.errors).map(([k, x]) => [k, n > 0 ? x / n : 0]));
        const l = v.window.latencyMs;
        const has = l.count > 0;
        return { rps, errors, errorRate: v.window.errorRate, p50: has ? l.p50 : null, p90: has ? l.p90 : null, p99: has ? l.p99 : null };
      };
      point.routes[r.name] = { legacy: side('legacy'), candidate: side('candidate') };
    }
    this.points.push(point);
    const cutoff = t - SERIES_SECONDS * 1000;
    while (this.points.length > 0 && this.points[0].t < cutoff) this.points.shift();
    if (this.points.length > SERIES_SECONDS + 5) this.points.splice(0, this.points.length - SERIES_SECONDS - 5);
  }

  private broadcast(event: string, data: unknown): void {
    if (this.clients.size === 0) return;
    const bytes = frame(++this.sequence, event, data);
    for (const c of this.clients) write(c, bytes, this.clients);
  }
}

function write(c: Client, bytes: string, all: Set<Client>): void {
  if (c.res.writableLength > MAX_QUEUED_BYTES) {
    // A page that stopped reading: drop it rather than queue without bound; it reconnects.
    all.delete(c);
    c.res.destroy();
    return;
  }
  c.res.write(bytes);
}

/** One event; JSON has no raw newlines, so one data line suffices. */
function frame(id: number, event: string, data: unknown): string {
  return `id: ${id}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

/** The page's status: the live figures, plus the guard, ramp and fleet views. */
async function snapshot(deps: AdminDeps, live: (() => LiveView) | undefined) {
  const data = live ? live() : fromDataPlane(await deps.dataPlane());
  const { control } = deps;
  const info = deps.info();
  return {
    time: new Date().toISOString(),
    version: info.version,
    uptimeSeconds: Math.round((Date.now() - info.startedAt) / 1000),
    windowSeconds: data.windowSeconds,
    inFlight: data.inFlight,
    maintenance: control.maintenance,
    persistence: persistence(control),
    nodes: data.nodes,
    workers: data.workers ?? null,
    fleet: deps.fleet?.() ?? { mode: 'single' },
    guard: deps.guardStatus?.() ?? null,
    ramp: deps.ramp?.status() ?? null,
    routes: deps.routeConfigs().map((r) => ({
      name: r.name,
      candidatePercent: control.percent(r.name) ?? 0,
      match: r.match,
      latch: control.latch(r.name) ?? null,
      backends: data.routes[r.name] ?? null,
    })),
  };
}

function persistence(control: Control) {
  const p = control.persistence();
  return { store: p.store, persisted: p.persisted, lastError: p.lastError };
}

export function summarize(r: Report): Summary {
  return {
    answer: r.answer,
    routes: r.routes.map((x) => ({ name: x.name, answer: x.answer, deciding: x.deciding, comparison: x.verdict })),
  };
}

/** GET /api/v1/events on the admin listener. */
export function registerEvents(app: FastifyInstance, deps: AdminDeps, opts: { tokenConfigured: boolean; live?: () => LiveView }): EventHub {
  const hub = new EventHub(deps, opts.live);
  // End the streams before the listener drops its connections: the pages see a clean end of
  // stream (not a broken one) and reconnect to whatever listens next.
  app.addHook('preClose', async () => hub.close());
  app.get('/api/v1/events', async (req, reply) => {
    const info = deps.info();
    reply.hijack();
    hub.attach(reply.raw, {
      access: accessOf(req, opts.tokenConfigured),
      version: info.version,
      startedAt: new Date(info.startedAt).toISOString(),
      seriesSeconds: SERIES_SECONDS,
      features: { guard: deps.guardStatus !== undefined, ramp: deps.ramp !== undefined, report: deps.report !== undefined, parity: false },
      routes: deps.routeConfigs().map((r) => ({ name: r.name, match: r.match, ramp: r.ramp ?? null })),
    });
  });
  return hub;
}

export type { Change };
