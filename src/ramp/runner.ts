// The ramp's thin shell: a timer that reads each ramping route's figures since its step began,
// asks the pure policy (policy.ts) what to do, and applies it through control/ (which owns and
// persists the ramp state). Also the operator commands, the confirm webhook and the ramp's events.
import type { Gauge } from 'prom-client';
import type { Config, RouteConfig } from '../config/schema.js';
import type { By, Change, Control } from '../control/control.js';
import { CutoverError } from '../errors.js';
import type { RoutePolicy, WindowFigures } from '../guard/policy.js';
import { routePolicy } from '../guard/route-policy.js';
import { WebhookSender } from '../guard/webhooks.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics/metrics.js';
import type { MismatchFigures } from '../guard/rules.js';
import { paritySince } from '../guard/mismatch-rule.js';
import { shadows, type ParityEvidence, type ParitySource } from '../parity/source.js';
import type { Stats } from '../stats/store.js';
import { sumParity, holdFigures, judgeHold, since, sumTotals, totalsOf, type Totals } from './evidence.js';
import { planOf, type RampPlan } from './plan.js';
import { active, breachAction, command, decide, holdBreachActions, type Decision, type Gate, type HoldRule, type RampCommand, type RampState } from './policy.js';
import { rampView, type RampView } from './view.js';

export interface RampDeps {
  stats: Stats;
  control: Control;
  logger: Logger;
  metrics: Metrics;
  /** Wall-clock ms (deadlines are wall-clock so that they survive a restart). */
  clock?: () => number;
  /** How often running ramps are evaluated (ms); 1000 by default. */
  intervalMs?: number;
  /**
   * Whether this process takes ramp steps now. In a fleet only the guard's leader does (the others
   * apply its steps through the shared state), so that a step is taken once.
   */
  acting?: () => boolean;
  /**
   * Cumulative totals of a route per source of traffic, when this process is not the only one:
   * every worker (a cluster's primary), every replica (the fleet's leader). Undefined: this
   * process's own series.
   */
  totals?(route: string): SourceTotals[] | undefined;
  /**
   * This process's parity per route (its shadow taps): on a route with a shadow, maxMismatchRate
   * judges the comparisons since the step began and the hold waits until they are conclusive.
   * When `totals` answers, the parity of each source comes with its totals instead.
   */
  parity?: ParitySource;
}

/** One process's (or replica's) cumulative totals of a route's two backends. */
export interface SourceTotals {
  source: string;
  legacy: Totals;
  candidate: Totals;
  /** Its parity counts of the route (cumulative), when the route shadows there. */
  parity?: ParityEvidence;
}

/**
 * Totals of every source when the current step began (in memory: after a restart, evidence starts
 * afresh). A source first seen during the step counts from then; one whose totals went down
 * (it restarted) counts everything since.
 */
interface Baseline {
  key: string;
  sources: Map<string, { legacy: Totals | undefined; candidate: Totals | undefined; parity: MismatchFigures | undefined }>;
}

const NO_COMPARISONS: ParityEvidence = { compared: 0, matched: 0, mismatched: 0, differences: {}, noise: {} };

export class RampRunner {
  private plans = new Map<string, RampPlan>();
  /** Routes with a shadow: their hold also waits for conclusive parity (maxMismatchRate). */
  /** Routes with a shadow configured; whether it copies anything now is the control state's (shadows). */
  private shadowed = new Map<string, RouteConfig>();
  private policies = new Map<string, RoutePolicy>();
  private timeouts = { legacy: 30_000, candidate: 30_000 };
  private readonly baselines = new Map<string, Baseline>();
  private readonly gates = new Map<string, { key: string; gate: Gate }>();
  private readonly last = new Map<string, { decision: Decision; rules: HoldRule[]; hold: { candidate: number; legacy: number; comparisons: number | null } }>();
  private timer: NodeJS.Timeout | undefined;
  private readonly clock: () => number;
  private readonly webhooks: WebhookSender;
  private readonly unsubscribe: () => void;
  private closed = false;

  constructor(
    private readonly deps: RampDeps,
    config: Config,
  ) {
    this.clock = deps.clock ?? Date.now;
    this.webhooks = new WebhookSender(config.guard.webhooks, deps.logger);
    const steps = deps.metrics.counter('cutover_ramp_steps_total', 'Ramp steps taken (by the ramp or a promotion), by route.', ['route']);
    deps.metrics.gauge('cutover_ramp_state', 'Ramp state per route: 1 for the current state (none, running, paused, done, failed, aborted), 0 for the others.', ['route', 'state'], (g: Gauge<string>) => {
      g.reset();
      for (const route of this.plans.keys()) {
        const current = deps.control.ramp(route)?.status ?? 'none';
        for (const s of ['none', 'running', 'paused', 'done', 'failed', 'aborted']) g.set({ route, state: s }, s === current ? 1 : 0);
      }
    });
    // Every ramp change, whoever made it (the ramp, an operator, the guard's revert), is announced.
    this.unsubscribe = deps.control.onChange((c: Change) => {
      if (c.kind !== 'ramp' || !c.route) return;
      if (c.event === 'ramp-step' || c.event === 'ramp-promoted') steps.inc({ route: c.route });
      const ramp = deps.control.ramp(c.route);
      this.webhooks.send({ type: c.event ?? 'ramp-changed', time: c.time, route: c.route, source: c.source, from: c.from, to: c.to, reason: c.reason ?? null, ramp: ramp ?? null });
    });
    this.configure(config);
  }

  configure(config: Config): void {
    this.webhooks.urls = config.guard.webhooks;
    this.timeouts = { legacy: config.backends.legacy.timeouts.responseMs, candidate: config.backends.candidate.timeouts.responseMs };
    const withRamp = config.routes.filter((r): r is RouteConfig & { ramp: NonNullable<RouteConfig['ramp']> } => r.ramp !== undefined);
    this.plans = new Map(withRamp.map((r) => [r.name, planOf(r.ramp)]));
    this.shadowed = new Map(config.routes.filter((r) => r.shadow !== undefined).map((r) => [r.name, r]));
    this.policies = new Map(withRamp.map((r) => [r.name, routePolicy(config.guard, r)]));
  }

  start(): void {
    if (this.timer || this.closed) return;
    this.timer = setInterval(() => this.tick(), this.deps.intervalMs ?? 1000);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.stop();
    this.unsubscribe();
    await this.webhooks.close();
  }

  /** The guard asks, for each route it would revert: revert, or pause the ramp instead (onBreach: pause). */
  breachAction(route: string): 'revert' | 'pause' {
    return breachAction(this.plans.get(route), this.deps.control.ramp(route));
  }

  /** An operator command on one route, or on every route with a ramp. */
  command(cmd: RampCommand, by: By & { route?: string; fromStep?: number }): ReturnType<Control['applyRamp']> & { routes: string[] } {
    let routes = by.route === undefined ? [...this.plans.keys()] : [by.route];
    if (by.route !== undefined && !this.plans.has(by.route)) {
      const known = this.deps.control.routes().includes(by.route);
      throw new CutoverError(known ? 'ramp_not_configured' : 'unknown_route', known ? `route ${by.route} has no ramp in the config (routes[].ramp)` : `no route named "${by.route}"`);
    }
    if (routes.length === 0) throw new CutoverError('ramp_not_configured', 'no route has a ramp in the config (routes[].ramp)');
    // A promote "from step n" is idempotent: once the ramp has left step n, a repeat changes nothing.
    if (cmd === 'promote' && by.fromStep !== undefined) routes = routes.filter((r) => this.deps.control.ramp(r)?.step === by.fromStep! - 1);
    const now = this.clock();
    const transitions = routes.map((route) => ({ route, t: command(cmd, route, this.plans.get(route)!, this.deps.control.ramp(route), now, by.reason) }));
    const applied = transitions.filter((x) => x.t !== null).map(({ route, t }) => this.deps.control.applyRamp(route, t!, { source: by.source, reason: by.reason ?? cmd }));
    this.deps.logger.info({ command: cmd, routes, changed: applied.length }, `ramp: ${cmd} on ${routes.join(', ')}${applied.length === 0 ? ' (nothing to change)' : ''}`);
    // All settle; one refusal (a raise that cannot be saved) refuses the answer.
    const saved = Promise.all(applied.map((a) => a.saved)).then((all) => all.find((s) => !s.persisted) ?? { persisted: true as const });
    return { changes: applied.flatMap((a) => a.changes), saved, routes };
  }

  /** One evaluation of every running ramp. */
  tick(): void {
    if (this.deps.acting && !this.deps.acting()) return;
    const now = this.clock();
    for (const [route, plan] of this.plans) {
      try {
        this.evaluate(route, plan, now);
      } catch (err) {
        this.deps.logger.error({ route, err: (err as Error).stack }, 'ramp: evaluating the route failed');
      }
    }
  }

  private evaluate(route: string, plan: RampPlan, now: number): void {
    const { control, logger } = this.deps;
    const state = control.ramp(route);
    if (state?.status !== 'running') return;
    const policy = this.policies.get(route)!;
    const key = `${state.startedAt}/${state.step}/${state.stepStartedAt}`;
    const hold = this.holdOf(route, key, policy);
    const rules = judgeHold(hold, policy);
    const gateEntry = this.gates.get(route);
    const gate = gateEntry?.key === key ? gateEntry.gate : undefined;
    const decision = decide({ plan, state, rules, gate, now });
    const previous = this.last.get(route)?.decision;
    this.last.set(route, { decision, rules, hold: { candidate: hold.candidate.requests, legacy: hold.legacy.requests, comparisons: hold.parity?.compared ?? null } });
    switch (decision.kind) {
      case 'hold':
        if (previous?.kind !== 'hold' || previous.reason !== decision.reason) {
          logger.info({ route, reason: decision.reason, missing: decision.missing }, `ramp: ${route}: ${decision.message}`);
          this.webhooks.send({ type: 'ramp-hold', time: new Date(now).toISOString(), route, reason: decision.reason, message: decision.message, missing: decision.missing });
        }
        return;
      case 'confirm':
        this.confirm(route, key, plan.confirmWebhook!, decision.from, decision.to);
        return;
      case 'advance':
        logger.info({ route }, `ramp: ${route}: ${decision.message}`);
        control.applyRamp(route, decision.transition, { source: 'ramp', reason: decision.message }).saved.catch((err: Error) =>
          logger.error({ route, err: err.message }, `ramp: ${route}: the step was not taken, it cannot be saved; it is tried again`),
        );
        return;
      case 'breach': {
        // The same actions as the guard's plan, through the same control call.
        const actions = holdBreachActions(route, decision, now);
        for (const r of actions.reverts) logger.warn({ route, rule: r.latch.rule, evidence: r.latch.evidence }, `ramp: reverted ${route} to legacy: ${r.reason}`);
        for (const p of actions.pauses) logger.warn({ route, reason: p.reason }, `ramp: paused ${route} on a breach (onBreach: pause); resume, promote or abort it`);
        control.applyGuard(actions);
        return;
      }
    }
  }

  /** Both backends' figures (and the comparisons) since the step began; the baseline is taken at the first look at a step. */
  private holdOf(route: string, key: string, policy: RoutePolicy): WindowFigures {
    const slowMs = policy.rules.maxP99Ms;
    const { sources, inFlight } = this.sourcesOf(route, slowMs);
    let base = this.baselines.get(route);
    if (base?.key !== key) {
      base = { key, sources: new Map(sources.map((x) => [x.source, baselineOf(x)])) };
      this.baselines.set(route, base);
    }
    const held = { legacy: [] as Totals[], candidate: [] as Totals[], parity: [] as MismatchFigures[] };
    for (const x of sources) {
      let b = base.sources.get(x.source);
      if (!b) base.sources.set(x.source, (b = baselineOf(x))); // new: from now on
      for (const k of ['legacy', 'candidate'] as const) {
        if (b[k] && x[k].counters.requests < b[k]!.counters.requests) b[k] = undefined; // restarted: all of it
        held[k].push(since(x[k], b[k]));
      }
      if (x.parity) held.parity.push(paritySince(x.parity, b.parity)); // paritySince: a reset or restart counts all
    }
    const hold: WindowFigures = {
      seconds: 0,
      candidate: holdFigures(sumTotals(held.candidate), slowMs, inFlight.candidate, this.timeouts.candidate),
      legacy: holdFigures(sumTotals(held.legacy), slowMs, inFlight.legacy, this.timeouts.legacy),
    };
    if (this.shadowing(route)) hold.parity = sumParity(held.parity);
    return hold;
  }

  /** Every source's cumulative totals of a route (this process's own, or those `totals` gives), with the local requests in flight. */
  private sourcesOf(route: string, slowMs: number | null): { sources: SourceTotals[]; inFlight: Record<'legacy' | 'candidate', number[]> } {
    const remote = this.deps.totals?.(route);
    if (remote) return { sources: remote, inFlight: { legacy: [], candidate: [] } };
    const minAge = (b: 'legacy' | 'candidate') => Math.min(slowMs ?? Infinity, this.timeouts[b]);
    const series = this.deps.stats.route(route);
    const mono = this.deps.stats.clock();
    const parity = this.shadowing(route) ? (this.deps.parity?.(route) ?? NO_COMPARISONS) : undefined;
    // judged(): without the requests that started before a re-arm and ended after it.
    const local: SourceTotals = { source: 'local', legacy: totalsOf(series.legacy.judged(mono)), candidate: totalsOf(series.candidate.judged(mono)), parity };
    return { sources: [local], inFlight: { legacy: series.legacy.inFlightAges(mono, minAge('legacy')), candidate: series.candidate.inFlightAges(mono, minAge('candidate')) } };
  }

  /** Ask the confirm webhook (once at a time per step); its answer is read by the next evaluations. */
  private confirm(route: string, key: string, url: string, from: number, to: number): void {
    this.gates.set(route, { key, gate: { status: 'pending', at: this.clock() } });
    const settle = (gate: Gate) => {
      if (this.gates.get(route)?.key === key) this.gates.set(route, { key, gate });
    };
    const body = JSON.stringify({ type: 'ramp-confirm', time: new Date(this.clock()).toISOString(), route, from, to });
    fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'user-agent': 'cutover-ramp' }, body, signal: AbortSignal.timeout(10_000) }).then(
      async (res) => {
        await res.body?.cancel();
        settle(res.ok ? { status: 'approved', at: this.clock() } : { status: 'refused', at: this.clock(), reason: `HTTP ${res.status}` });
      },
      (err: Error) => settle({ status: 'refused', at: this.clock(), reason: err.name === 'TimeoutError' ? 'no answer within 10 s' : err.message }),
    );
  }

  /** What GET /api/v1/ramp and `cutover ramp status` show, per route with a ramp. */
  status(): { routes: Record<string, RampView> } {
    const now = this.clock();
    const out: Record<string, RampView> = {};
    for (const [route, plan] of this.plans) {
      const state: RampState | undefined = this.deps.control.ramp(route);
      const last = active(state) ? this.last.get(route) : undefined;
      out[route] = rampView({ plan, state, percent: this.deps.control.percent(route) ?? 0, now, last });
    }
    return { routes: out };
  }

  /** Whether the route's parity is evidence now: it shadows a share of its requests (parity/source.ts). */
  private shadowing(route: string): boolean {
    const r = this.shadowed.get(route);
    return r !== undefined && shadows(r, this.deps.control);
  }
}

/** A source's totals at a step's start (the parity copied: a source may hand out live counts). */
function baselineOf(x: SourceTotals) {
  return { legacy: x.legacy, candidate: x.candidate, parity: x.parity && paritySince(x.parity, undefined) };
}
