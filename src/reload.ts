// A config reload, in the two halves every topology shares: what the new file means next to the
// running config (which settings a reload cannot apply), and what it changes in the control state
// (new routes, percentages on request, one history entry). The data plane's half (tables, pools)
// is App.applyDataPlane, run in the one process or in every worker.
import type { Change, Control, Source } from './control/control.js';
import { BACKENDS, type Config } from './config/schema.js';

export interface ReloadResult {
  applied: true;
  routesAdded: string[];
  routesRemoved: string[];
  backendsChanged: string[];
  guardChanged: boolean;
  warnings: string[];
  routes: Record<string, number>;
  changes: Change[];
  /** Whether the percentages it applied are on disk (false: see warnings). */
  persisted: boolean;
}

export interface ReloadBy {
  source: Source;
  reason?: string;
  applyPercentages?: boolean;
}

/**
 * The config a reload applies: the new file, but with the settings that need new sockets, a new
 * store or new stats series kept as they run, each named in the warnings with how to apply it.
 * With workers, `cutover restart` (SIGUSR2) applies what lives in the workers; the primary's own
 * listeners and store need a stop and start.
 */
export function effectiveConfig(prev: Config, next: Config, withWorkers = false): { effective: Config; warnings: string[] } {
  const warnings: string[] = [];
  const stopStart = 'stop and start cutover to apply it';
  const restart = withWorkers ? 'cutover restart (SIGUSR2) applies it' : 'restart to apply it';
  if (next.listen.host !== prev.listen.host || next.listen.port !== prev.listen.port) warnings.push(`listen changed: ${stopStart} (it needs a new socket)`);
  if (JSON.stringify(next.admin) !== JSON.stringify(prev.admin)) warnings.push(`admin changed: ${withWorkers ? stopStart : restart}`);
  if (JSON.stringify(next.state) !== JSON.stringify(prev.state)) warnings.push(`state changed: ${withWorkers ? stopStart : restart}`);
  if (next.stats.windowSeconds !== prev.stats.windowSeconds || next.guard.windowSeconds !== prev.guard.windowSeconds) {
    warnings.push(`stats.windowSeconds / guard.windowSeconds changed: ${restart}`);
  }
  if (next.workers !== prev.workers) warnings.push(`workers changed: ${withWorkers ? restart : stopStart}`);
  const effective: Config = {
    ...next,
    listen: prev.listen,
    admin: prev.admin,
    state: prev.state,
    stats: prev.stats,
    workers: prev.workers,
    guard: { ...next.guard, windowSeconds: prev.guard.windowSeconds },
  };
  return { effective, warnings };
}

/**
 * The control half: percentages from the file when asked (a latched route keeps 0), and one
 * history entry describing the reload. `hasStore`: whether changes are saved anywhere.
 */
export async function reloadControl(control: Control, prev: Config, effective: Config, by: ReloadBy, warnings: string[], hasStore: boolean): Promise<ReloadResult> {
  const before = new Set(prev.routes.map((r) => r.name));
  const names = new Set(effective.routes.map((r) => r.name));
  const changes: Change[] = [];
  const saves: Array<Promise<unknown>> = [];
  let persisted = true;
  if (by.applyPercentages) {
    for (const r of effective.routes) {
      if (control.latch(r.name) && r.candidatePercent > 0) {
        warnings.push(`${r.name}: the guard is latched; its percentage stays at ${control.percent(r.name)} % until re-armed`);
        continue;
      }
      const applied = control.setSplit(r.candidatePercent, { route: r.name, source: by.source, reason: 'reload: percentages from the config file' });
      changes.push(...applied.changes);
      // A percentage that cannot be saved: a raise is undone, a lowering stays; the rest of the
      // reload (routes, backends) applies either way, so this is a warning, not an error.
      saves.push(
        applied.saved.then(
          (s) => {
            if (s.persisted || !hasStore) return;
            persisted = false;
            warnings.push(`${r.name}: ${s.reason}`);
          },
          (err: Error) => {
            persisted = false;
            warnings.push(`${r.name}: percentage not applied: ${err.message}`);
          },
        ),
      );
    }
  }
  await Promise.all(saves);
  const summary = {
    routesAdded: effective.routes.filter((r) => !before.has(r.name)).map((r) => r.name),
    routesRemoved: prev.routes.filter((r) => !names.has(r.name)).map((r) => r.name),
    backendsChanged: BACKENDS.filter((b) => JSON.stringify(prev.backends[b]) !== JSON.stringify(effective.backends[b])),
    guardChanged: JSON.stringify(prev.guard) !== JSON.stringify(effective.guard),
  };
  changes.unshift(
    control.note({
      source: by.source,
      kind: 'config',
      from: { routes: [...before] },
      to: { routes: [...names], ...summary },
      reason: by.reason ?? 'config reload',
    }),
  );
  return {
    applied: true,
    ...summary,
    warnings,
    routes: Object.fromEntries(control.routes().map((r) => [r, control.percent(r) ?? 0])),
    changes,
    persisted: persisted && hasStore,
  };
}
