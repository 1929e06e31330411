// Commands that read or change a running cutover through its admin API.
import { callAdmin } from '../client/admin-client.js';
import { renderGuard, renderStatus, type StatusBody } from '../client/render.js';
import type { ParityBody } from '../client/render-parity.js';
import { ADMIN_HELP, adminOptions, out, printJson, printSplits, targetOf, UsageError, warnNotSaved, type Command, type Values } from './command.js';

async function readStatus(v: Values): Promise<StatusBody> {
  const target = targetOf(v);
  const body = await callAdmin<StatusBody>(target, 'GET', '/api/v1/status');
  body.guard = await callAdmin<StatusBody['guard']>(target, 'GET', '/api/v1/guard').catch(() => undefined);
  // Parity only where a route shadows (a cutover without shadows, or a workers' primary, has none).
  const parity = await callAdmin<ParityBody>(target, 'GET', '/api/v1/parity').catch(() => undefined);
  if (parity && Object.keys(parity.routes).length > 0) body.parity = parity.routes;
  return body;
}

/** Redraw the status every second until Ctrl-C (or `signal`). */
async function watch(v: Values, signal: AbortSignal): Promise<void> {
  while (!signal.aborted) {
    let text: string;
    try {
      text = renderStatus(await readStatus(v));
    } catch (err) {
      text = `${(err as Error).message}\n`;
    }
    // Clear the screen and go home (ANSI), then draw: one frame per second, no scrolling.
    process.stdout.write(`\x1b[2J\x1b[H${new Date().toISOString()}  (Ctrl-C stops)\n${text}`);
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, 1000);
      signal.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
    });
  }
}

/** The answer of a split change: JSON with --json, else one line per route. */
function splitAnswer(v: Values, r: { routes: Record<string, number> }): number {
  warnNotSaved(r);
  if (v.json) printJson(r);
  else printSplits(r.routes);
  return 0;
}

export const controlCommands: Record<string, Command> = {
  status: {
    summary: 'show the split, maintenance, guard and per-backend figures (--watch: redraw every second)',
    usage: `cutover status [--watch] [--json] [--admin URL | --config FILE]${ADMIN_HELP}

  --watch         redraw every second until Ctrl-C`,
    options: { ...adminOptions, watch: { type: 'boolean' } },
    async run(v) {
      if (v.watch) {
        const ac = new AbortController();
        const stop = () => ac.abort();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
        await watch(v, ac.signal);
        return 0;
      }
      const body = await readStatus(v);
      if (v.json) printJson(body);
      else out(renderStatus(body));
      return 0;
    },
  },
  set: {
    summary: 'set the candidate percentage (all routes, or one with --route)',
    usage: `cutover set PERCENT [--route NAME] [--reason TEXT] [--json] [--admin URL | --config FILE]${ADMIN_HELP}`,
    options: { route: { type: 'string' }, reason: { type: 'string' }, ...adminOptions },
    async run(v, args) {
      if (args.length !== 1) throw new UsageError('give exactly one PERCENT, a number from 0 to 100');
      const candidatePercent = Number(args[0]);
      if (args[0].trim() === '' || !Number.isFinite(candidatePercent)) throw new UsageError(`PERCENT must be a number from 0 to 100, got "${args[0]}"`);
      return splitAnswer(v, await callAdmin(targetOf(v), 'PUT', '/api/v1/split', { candidatePercent, route: v.route, reason: v.reason }));
    },
  },
  promote: {
    summary: 'send 100 % to the candidate (all routes, or one with --route)',
    usage: `cutover promote [--route NAME] [--reason TEXT] [--json] [--admin URL | --config FILE]${ADMIN_HELP}`,
    options: { route: { type: 'string' }, reason: { type: 'string' }, ...adminOptions },
    async run(v) {
      return splitAnswer(v, await callAdmin(targetOf(v), 'POST', '/api/v1/promote', { route: v.route, reason: v.reason }));
    },
  },
  rollback: {
    summary: 'send every route back to legacy (0 %) at once',
    usage: `cutover rollback --reason TEXT [--json] [--admin URL | --config FILE]${ADMIN_HELP}`,
    options: { reason: { type: 'string' }, ...adminOptions },
    async run(v) {
      if (typeof v.reason !== 'string' || v.reason.trim() === '') throw new UsageError('--reason TEXT is required: say why you roll back');
      return splitAnswer(v, await callAdmin(targetOf(v), 'POST', '/api/v1/rollback', { reason: v.reason }));
    },
  },
  maintenance: {
    summary: 'turn maintenance mode on or off (503 with Retry-After for every request)',
    usage: `cutover maintenance on|off [--retry-after S] [--message TEXT] [--json] [--admin URL | --config FILE]${ADMIN_HELP}`,
    options: { 'retry-after': { type: 'string' }, message: { type: 'string' }, reason: { type: 'string' }, ...adminOptions },
    async run(v, args) {
      if (args.length !== 1 || (args[0] !== 'on' && args[0] !== 'off')) throw new UsageError('say "on" or "off"');
      const body: Record<string, unknown> = { enabled: args[0] === 'on', message: v.message, reason: v.reason };
      if (v['retry-after'] !== undefined) body.retryAfterSeconds = Number(v['retry-after']);
      const r = await callAdmin<{ maintenance: { enabled: boolean; retryAfterSeconds: number } }>(targetOf(v), 'POST', '/api/v1/maintenance', body);
      warnNotSaved(r);
      if (v.json) printJson(r);
      else out(`maintenance ${r.maintenance.enabled ? `ON (Retry-After ${r.maintenance.retryAfterSeconds} s)` : 'off'}`);
      return 0;
    },
  },
  drain: {
    summary: 'wait until no request is in flight (or the timeout)',
    usage: `cutover drain [--timeout S] [--json] [--admin URL | --config FILE]${ADMIN_HELP}`,
    options: { timeout: { type: 'string', default: '30' }, ...adminOptions },
    async run(v) {
      const timeoutSeconds = Number(v.timeout);
      if (!Number.isFinite(timeoutSeconds) || timeoutSeconds < 0) throw new UsageError(`--timeout must be a number of seconds, got "${v.timeout}"`);
      const r = await callAdmin<{ drained: boolean; finished: number; inFlight: number; waitedMs: number }>(targetOf(v), 'POST', '/api/v1/drain', { timeoutSeconds });
      if (v.json) printJson(r);
      else out(r.drained ? `drained: ${r.finished} request(s) finished in ${r.waitedMs} ms, none in flight` : `timed out after ${r.waitedMs} ms: ${r.inFlight} request(s) still in flight`);
      return r.drained ? 0 : 1;
    },
  },
  guard: {
    summary: 'guard status, or re-arm it after a revert (guard status | guard rearm)',
    usage: `cutover guard status [--json] | cutover guard rearm [--route NAME] [--reason TEXT]  [--admin URL | --config FILE]${ADMIN_HELP}

  After a revert the guard stays latched: re-arm it, then set a new split.`,
    options: { route: { type: 'string' }, reason: { type: 'string' }, ...adminOptions },
    async run(v, args) {
      const target = targetOf(v);
      if (args[0] === 'rearm' && args.length === 1) {
        const r = await callAdmin<{ changes: unknown[] }>(target, 'POST', '/api/v1/guard/rearm', { route: v.route, reason: v.reason });
        warnNotSaved(r);
        if (v.json) printJson(r);
        else out(r.changes.length === 0 ? 'nothing to re-arm: no route is reverted' : `re-armed ${r.changes.length} route(s); set a new split with cutover set`);
        return 0;
      }
      if (args[0] === 'status' && args.length === 1) {
        const g = await callAdmin<NonNullable<StatusBody['guard']>>(target, 'GET', '/api/v1/guard');
        if (v.json) printJson(g);
        else out(renderGuard(g));
        return 0;
      }
      throw new UsageError('say "guard status" or "guard rearm"');
    },
  },
  restart: {
    summary: 'replace the workers with new ones running the code and config on disk (same as SIGUSR2)',
    usage: `cutover restart [--reason TEXT] [--json] [--admin URL | --config FILE]${ADMIN_HELP}

  Needs workers: N (N >= 1). The primary keeps the listening socket: new workers start, and once
  they listen the old ones drain, so no connection is refused or reset.`,
    options: { reason: { type: 'string' }, ...adminOptions },
    async run(v) {
      const r = await callAdmin<{ pid: number; started: number[]; stopped: number[]; changed: string[]; warnings: string[]; readyMs: number }>(targetOf(v), 'POST', '/api/v1/restart', {
        reason: v.reason,
      });
      if (v.json) return printJson(r), 0;
      out(`restarted: workers ${r.started.join(', ')} serving (ready in ${r.readyMs} ms), ${r.stopped.join(', ')} draining; primary ${r.pid}`);
      out(`changed settings: ${r.changed.length === 0 ? 'none' : r.changed.join(', ')}`);
      for (const w of r.warnings) out(`warning: ${w}`);
      return 0;
    },
  },
  reload: {
    summary: 'make a running cutover re-read its config file (same as SIGHUP)',
    usage: `cutover reload [--apply-percentages] [--reason TEXT] [--json] [--admin URL | --config FILE]${ADMIN_HELP}

  --apply-percentages   also set existing routes to the file's percentages (by default
                        they keep what the API and the state file say)`,
    options: { 'apply-percentages': { type: 'boolean' }, reason: { type: 'string' }, ...adminOptions },
    async run(v) {
      const r = await callAdmin<{ routesAdded: string[]; routesRemoved: string[]; warnings: string[]; routes: Record<string, number> }>(targetOf(v), 'POST', '/api/v1/config/reload', {
        reason: v.reason,
        applyPercentages: v['apply-percentages'] === true,
      });
      if (v.json) return printJson(r), 0;
      out(`reloaded: ${r.routesAdded.length} route(s) added, ${r.routesRemoved.length} removed`);
      for (const w of r.warnings) out(`warning: ${w}`);
      printSplits(r.routes);
      return 0;
    },
  },
};
