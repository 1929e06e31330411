// A cluster worker: the data plane only. It serves with the config and control state its primary
// sends (App in the 'worker' role: stats, proxy, a guard that only records), applies every state
// change the primary broadcasts, reports its guard figures every guard interval, answers the
// primary's questions (status figures, metrics, a reloaded config) and drains when told to.
// Signals are the primary's business: a worker ignores them and exits when its primary is gone.
import cluster from 'node:cluster';
import { App } from '../app.js';
import type { PersistedState } from '../control/persisted.js';
import { createLogger } from '../log.js';
import { isToWorker, type Answers, type FromWorker, type Question, type Served, type ToWorker } from './messages.js';

export async function runWorker(): Promise<void> {
  const id = cluster.worker?.id ?? 0;
  const send = (m: FromWorker) => {
    if (process.connected) process.send!(m, undefined, undefined, () => {});
  };
  let app: App | undefined;
  let pending: PersistedState | undefined;
  let timer: NodeJS.Timeout | undefined;
  let draining: Promise<void> | undefined;

  const drain = (drainMs: number, graceMs?: number, mode: 'retire' | 'shutdown' = 'retire'): Promise<void> =>
    (draining ??= (async () => {
      clearInterval(timer);
      if (app) {
        app.logger.info({ drainMs, mode }, 'worker: draining');
        if (mode === 'shutdown') {
          await app.drain({ drainMs, graceMs });
          await app.close(graceMs);
        } else {
          await app.retire(drainMs, graceMs);
        }
      }
      process.exit(0); // the primary learns it from the exit
    })());

  const answer = async (q: Question): Promise<Answers[Question['kind']]> => {
    if (!app) throw new Error('starting');
    switch (q.kind) {
      case 'data-plane':
        return { ...app.dataPlaneView(), served: served(app) };
      case 'metrics':
        return app.metrics.registry.getMetricsAsJSON();
      case 'in-flight':
        return app.proxy.inFlight;
      case 'config':
        app.applyDataPlane(q.config);
        report(app); // the guard interval may have changed
        return null;
    }
  };

  const report = (a: App) => {
    clearInterval(timer);
    timer = setInterval(() => {
      const s = served(a);
      send({
        cutover: 'figures',
        snapshot: { replica: `worker-${id}`, at: Date.now(), leader: false, requests: s.legacy + s.candidate, routes: a.guard.wireSnapshot() },
        served: s,
        inFlight: a.proxy.inFlight,
      });
    }, a.config.guard.intervalMs);
  };

  const init = new Promise<Extract<ToWorker, { cutover: 'init' }>>((resolve) => {
    process.on('message', (m: unknown) => {
      if (!isToWorker(m)) return;
      switch (m.cutover) {
        case 'init':
          return resolve(m);
        case 'state':
          if (app) app.control.applyRemote(m.state);
          else pending = m.state;
          return;
        case 'ask':
          answer(m.question).then(
            (value) => send({ cutover: 'answer', id: m.id, value }),
            (err: Error) => send({ cutover: 'answer', id: m.id, error: err.message }),
          );
          return;
        case 'drain':
          void drain(m.drainMs, m.graceMs, m.mode);
      }
    });
  });
  // The primary coordinates shutdown and restarts; a signal to the whole group (Ctrl-C) is its.
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGUSR2'] as const) process.on(sig, () => {});
  // The primary is gone (killed): finish what is in flight and exit rather than serve unsupervised.
  process.on('disconnect', () => void drain(0));
  send({ cutover: 'hello' });

  const { config, configFile, state } = await init;
  const a = new App({ config, configFile, logger: createLogger(config.log.level).child({ worker: id }), role: 'worker' });
  a.control.applyRemote(pending ?? state);
  app = a; // from here on a state change applies to it directly
  await a.start();
  report(a);
  send({ cutover: 'ready', address: a.proxyAddress! });
}

function served(app: App): Served {
  const out: Served = { legacy: 0, candidate: 0 };
  for (const v of app.stats.views()) if (!v.forced) out[v.backend] += v.cumulative.counters.requests;
  return out;
}
