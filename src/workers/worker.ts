// A cluster worker: the data plane only (data-plane.ts), built from the spec its primary compiled
// (config validated, secrets read, the guard's thresholds), with the control state the primary
// sends, applied as it comes. It reports its guard figures every guard interval, answers the
// primary's questions (its report, in flight, a reloaded spec, a parity reset) and drains when
// told to. It loads no admin API, metrics registry, guard, ramp, fleet, Redis or config tooling:
// test/worker-loads-only-the-data-plane.test.ts records what it loaded.
// Signals are the primary's business: a worker ignores them and exits when its primary is gone.
import cluster from 'node:cluster';
import { Control } from '../control/control.js';
import { APPLY_ONLY } from '../control/ramp-port.js';
import type { PersistedState } from '../control/persisted.js';
import { DataPlane } from '../data-plane.js';
import { createLiteLogger, type LogSink } from '../log-lite.js';
import { processFigures } from '../metrics/port.js';
import { isToWorker, type Answers, type FromWorker, type Question, type ToWorker } from './messages.js';

type Init = Extract<ToWorker, { cutover: 'init' }>;

export async function runWorker(): Promise<void> {
  const id = cluster.worker?.id ?? 0;
  const send = (m: FromWorker) => {
    if (process.connected) process.send!(m, undefined, undefined, () => {});
  };
  let worker: Worker | undefined;
  let pending: PersistedState | undefined;
  const init = new Promise<Init>((resolve) => {
    process.on('message', (m: unknown) => {
      if (!isToWorker(m)) return;
      if (m.cutover === 'init') return resolve(m);
      if (m.cutover === 'state') {
        if (worker) worker.control.applyRemote(m.state);
        else pending = m.state;
      } else if (m.cutover === 'ask') {
        const answer = worker ? Promise.resolve().then(() => worker!.answer(m.question)) : Promise.reject(new Error('starting'));
        answer.then(
          (value) => send({ cutover: 'answer', id: m.id, value }),
          (err: Error) => send({ cutover: 'answer', id: m.id, error: err.message }),
        );
      } else if (m.cutover === 'drain') void (worker ? worker.drain(m.drainMs, m.graceMs, m.mode) : process.exit(0));
    });
  });
  // The primary coordinates shutdown and restarts; a signal to the whole group (Ctrl-C) is its.
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGUSR2'] as const) process.on(sig, () => {});
  // The primary is gone (killed): finish what is in flight and exit rather than serve unsupervised.
  process.on('disconnect', () => void (worker ? worker.drain(0) : process.exit(0)));
  send({ cutover: 'hello' });

  const m = await init;
  worker = new Worker(id, m, send);
  worker.control.applyRemote(pending ?? m.state);
  const address = await worker.data.listen(m.configFile);
  worker.report();
  send({ cutover: 'ready', address });
}

class Worker {
  readonly control: Control;
  readonly data: DataPlane;
  private readonly logger: LogSink;
  private timer: NodeJS.Timeout | undefined;
  private draining: Promise<void> | undefined;

  constructor(
    private readonly id: number,
    m: Init,
    private readonly send: (m: FromWorker) => void,
  ) {
    const { config } = m.spec;
    this.logger = createLiteLogger(config.log.level, { worker: id });
    // The primary's control state, applied as it comes (the primary logs the changes).
    this.control = new Control(config, undefined, undefined, Date.now, APPLY_ONLY);
    this.data = new DataPlane({ spec: m.spec, control: this.control, logger: this.logger });
    // A re-arm (from the primary) starts the series afresh: the primary's guard judges only later requests.
    this.control.onChange((c) => {
      if (c.kind === 'guard' && c.to === 'armed' && c.route) this.data.stats.rearm(c.route);
    });
  }

  answer(q: Question): Answers[Question['kind']] {
    switch (q.kind) {
      case 'data-plane':
        return { ...this.data.report(), process: processFigures() };
      case 'in-flight':
        return this.data.proxy.inFlight;
      case 'totals':
        return Object.fromEntries(q.routes.map((r) => [r, this.data.stats.totals(r)]));
      case 'spec':
        this.data.apply(q.spec);
        this.logger.level = q.spec.config.log.level;
        this.report(); // the guard interval may have changed
        return null;
      case 'parity-reset':
        return this.data.parity.reset();
      case 'parity-cases':
        return this.data.parity.cases(q.route, q.limit) ?? null;
    }
  }

  /** Every guard interval: the guard's figures, what it served, what is in flight. */
  report(): void {
    clearInterval(this.timer);
    this.timer = setInterval(() => {
      const served = this.data.served();
      const snapshot = { replica: `worker-${this.id}`, at: Date.now(), leader: false, requests: served.legacy + served.candidate, routes: this.data.wire() };
      this.send({ cutover: 'figures', snapshot, served, inFlight: this.data.proxy.inFlight });
    }, this.data.config.guard.intervalMs);
  }

  drain(drainMs: number, graceMs?: number, mode: 'retire' | 'shutdown' = 'retire'): Promise<void> {
    this.draining ??= (async () => {
      clearInterval(this.timer);
      const grace = graceMs ?? this.data.config.shutdownGraceSeconds * 1000;
      this.logger.info({ drainMs, mode }, 'worker: draining');
      if (mode === 'shutdown') {
        await this.data.drain(drainMs, grace);
        await this.data.close(grace);
      } else await this.data.retire(drainMs, grace);
      process.exit(0); // the primary learns it from the exit
    })();
    return this.draining;
  }
}
