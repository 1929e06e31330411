// The guard's thin shell: a timer that reads window figures from stats/, asks the pure policy for
// a decision per route and for the whole plan (plan.ts), applies the plan through control/ in one
// call, and reports it (logs, metrics, webhooks).
import type { Config, GuardConfig, RouteConfig } from '../config/schema.js';
import type { Change } from '../control/control.js';
import { shadows, type ParityEvidence } from '../parity/source.js';
import type { FiguresSource, GuardDeps } from './deps.js';
import { readWindows } from './figures.js';
import { evidenceOf, guardPlan, type GuardPlan } from './plan.js';
import { evaluate, initialGuardState, windowsToJudge, type Decision, type RouteGuardState, type RoutePolicy, type WindowFigures } from './policy.js';
import { routePolicy } from './route-policy.js';
import { guardMetrics, type GuardMetrics, type GuardStateName } from './metrics.js';
import { guardStatus, iso, OBSERVATIONS_KEPT, type Observation } from './status.js';
import { WebhookSender } from './webhooks.js';

export { routePolicy };
export type { Observation };

export { GUARD_STATES, type GuardStateName } from './metrics.js';

export type { FiguresSource, GuardDeps };

export class GuardRunner {
  private config!: GuardConfig;
  private timeouts: Record<'legacy' | 'candidate', number> = { legacy: 30_000, candidate: 30_000 };
  private routes: readonly RouteConfig[] = [];
  private policies = new Map<string, RoutePolicy>();
  private readonly states = new Map<string, RouteGuardState>();
  /** Insufficient-data transitions: shown in the status, kept out of the history (they can flap for hours). */
  private readonly observations: Observation[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly clock: () => number;
  private readonly webhooks: WebhookSender;
  private readonly counted: GuardMetrics;
  private readonly unsubscribe: () => void;

  constructor(
    private readonly deps: GuardDeps,
    config: Config,
  ) {
    this.clock = deps.clock ?? Date.now;
    this.webhooks = new WebhookSender(config.guard.webhooks, deps.logger);
    this.counted = guardMetrics(deps.metrics, () => this.routes.map((r) => [r.name, this.stateName(r.name)]));
    // A re-arm (API or CLI, here or on another replica) starts the route's judgement afresh: only
    // requests that start from now on are judged, in every window. It is announced.
    this.unsubscribe = deps.control.onChange((c: Change) => {
      if (c.kind === 'guard' && c.to === 'armed' && c.route) {
        // The comparisons so far are the baseline: only later ones are judged (like Series.rearm).
        this.states.set(c.route, initialGuardState(this.clock(), this.parityOf(c.route, this.mode)));
        deps.stats.rearm(c.route);
        this.webhooks.send({ type: 'rearmed', time: c.time, route: c.route, source: c.source, reason: c.reason ?? null });
      }
    });
    this.configure(config);
  }

  /** Apply (new) guard settings and routes; judgement state of routes that remain is kept. */
  configure(config: Config): void {
    this.config = config.guard;
    this.routes = config.routes;
    this.timeouts = { legacy: config.backends.legacy.timeouts.responseMs, candidate: config.backends.candidate.timeouts.responseMs };
    this.webhooks.urls = config.guard.webhooks;
    this.policies = new Map(config.routes.map((r) => [r.name, routePolicy(config.guard, r)]));
    for (const name of [...this.states.keys()]) if (!this.policies.has(name)) this.states.delete(name);
    if (this.started) {
      this.stop();
      this.start();
    }
  }

  /** Whether start() was called (and stop() not since): a reload that enables the guard starts it. */
  private started = false;
  /** Whose figures the last evaluation judged (see FiguresSource). */
  mode: 'local' | 'merged' | 'follower' = 'local';

  start(): void {
    this.started = true;
    if (this.timer || !this.config.enabled) return;
    this.timer = setInterval(() => this.tick(), this.config.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  async close(): Promise<void> {
    this.started = false;
    this.stop();
    this.unsubscribe();
    await this.webhooks.close();
  }

  /** The figures of one route over the windows to judge, in-flight requests included. */
  private windows(route: string, policy: RoutePolicy): WindowFigures[] {
    return this.read(route, policy).map(({ seconds, candidate, legacy }) => ({ seconds, candidate, legacy }));
  }

  private read(route: string, policy: RoutePolicy) {
    const seconds = windowsToJudge(this.config.windowSeconds, this.config.fastWindowSeconds);
    return readWindows(this.deps.stats.route(route), this.deps.stats.clock(), seconds, policy, this.timeouts);
  }

  /** The parity a route is judged on (undefined when it does not shadow): its own, or the merged one when leading. */
  private parityOf(route: string, mode: 'local' | 'merged' | 'follower'): ParityEvidence | undefined {
    const r = this.routes.find((x) => x.name === route);
    if (!r || !shadows(r, this.deps.control)) return undefined;
    return mode === 'merged' ? this.deps.source?.mergedParity?.(route) : this.deps.parity?.(route);
  }

  /** One evaluation of every route; applies the plan the policy returns. */
  tick(): void {
    const t0 = performance.now(); // how long the evaluation takes (a metric), not a decision's clock
    const now = this.clock();
    const { control } = this.deps;
    const mode = this.deps.source?.mode() ?? 'local';
    this.mode = mode;
    // Another replica leads: it judges everyone's figures, and its reverts reach this one.
    if (mode === 'follower') return;
    const decisions: Array<{ route: string; decision: Decision }> = [];
    for (const r of this.routes) {
      const policy = this.policies.get(r.name)!;
      if (!policy.enabled || control.latch(r.name)) continue;
      try {
        const percent = control.percent(r.name) ?? 0;
        const state = this.states.get(r.name) ?? initialGuardState(now);
        const windows = percent <= 0 ? [] : mode === 'merged' ? (this.deps.source!.merged(r.name) ?? []) : this.windows(r.name, policy);
        const parity = percent <= 0 ? undefined : this.parityOf(r.name, mode);
        const decision = evaluate({ windows, policy, state, candidatePercent: percent, now, intervalMs: this.config.intervalMs, parity });
        this.states.set(r.name, decision.state);
        this.report(r.name, decision);
        decisions.push({ route: r.name, decision });
      } catch (err) {
        // A fault in judging one route must neither stop the others nor take the data plane down.
        this.deps.logger.error({ route: r.name, err: (err as Error).stack }, 'guard: evaluating the route failed');
      }
    }
    const routes = this.routes.map((r) => ({ name: r.name, policy: this.policies.get(r.name)!, latched: control.latch(r.name) !== undefined, onBreach: this.deps.breach?.breachAction(r.name) ?? ('revert' as const) }));
    this.apply(guardPlan({ decisions, routes, scope: this.config.scope, now }), now);
    this.counted.evaluationSeconds.set((performance.now() - t0) / 1000);
  }

  private observe(route: string, event: string, summary: string, at: number): void {
    this.observations.unshift({ time: iso(at), route, event, summary });
    if (this.observations.length > OBSERVATIONS_KEPT) this.observations.length = OBSERVATIONS_KEPT;
  }

  /** Logs, metrics and webhooks of one route's decision (what it changes is in the plan). */
  private report(route: string, d: Decision): void {
    const { logger } = this.deps;
    const v = d.verdict;
    const evidence = evidenceOf(v);
    for (const e of d.events) {
      switch (e.type) {
        case 'insufficient-data-began':
          logger.info({ route, verdict: v.summary, evidence }, `guard: not enough evidence on ${route} yet (neither pass nor failure)`);
          this.observe(route, 'insufficient-data-began', v.summary, v.at);
          this.webhooks.send({ type: 'insufficient-data-began', time: iso(e.since), route, summary: v.summary, evidence });
          break;
        case 'insufficient-data-ended':
          logger.info({ route, durationMs: e.durationMs, verdict: v.kind }, `guard: enough evidence again on ${route}: ${v.kind}`);
          this.observe(route, 'insufficient-data-ended', v.summary, v.at);
          this.webhooks.send({ type: 'insufficient-data-ended', time: iso(v.at), route, durationMs: e.durationMs });
          break;
        case 'streak-reset':
          logger.info({ route, streak: e.streak }, `guard: breach streak on ${route} reset, evaluations stopped (not enough evidence)`);
          this.observe(route, 'streak-reset', v.summary, v.at);
          break;
        case 'breach-started':
          logger.warn({ route, breaches: e.breaches, consecutive: this.policies.get(route)?.consecutive }, `guard: breach seen on ${route}: ${v.summary}`);
          break;
        case 'shared-outage':
          for (const b of e.breaches) this.counted.sharedOutages.inc({ route, rule: b.rule });
          logger.warn({ route, breaches: e.breaches }, `guard: ${route}: ${v.summary}`);
          this.webhooks.send({ type: 'shared-outage', time: iso(v.at), route, rule: e.breaches[0].rule, reason: v.summary, evidence });
          break;
        case 'breach-detected':
          this.detected(route, e.breaches[0].rule, e.dryRun, d);
          break;
        case 'recovered':
          logger.info({ route, verdict: v.summary }, `guard: the breach on ${route} cleared before the guard acted`);
          break;
      }
    }
  }

  private detected(route: string, rule: string, dryRun: boolean, d: Decision): void {
    const v = d.verdict;
    const evidence = evidenceOf(v);
    this.counted.breaches.inc({ route, rule, dry_run: String(dryRun) });
    if (dryRun) {
      this.counted.wouldRevert.inc({ route, rule });
      this.deps.logger.warn({ route, rule, evidence }, `guard (dry run): would revert ${route}: ${v.summary}`);
      this.webhooks.send({ type: 'would-revert', time: iso(v.at), route, rule, reason: v.summary, evidence, dryRun: true });
    } else {
      this.webhooks.send({ type: 'breach-detected', time: iso(v.at), route, rule, reason: v.summary, evidence, dryRun: false });
    }
  }

  /** Apply the plan in one control call, then report the reverts and pauses it made. */
  private apply(plan: GuardPlan, now: number): void {
    if (plan.notes.length === 0 && plan.reverts.length === 0 && plan.pauses.length === 0) return;
    const { control, logger } = this.deps;
    const from = new Map(plan.reverts.map((r) => [r.route, control.percent(r.route)]));
    const applied = control.applyGuard(plan);
    const paused = new Set(applied.changes.filter((c) => c.kind === 'ramp' && c.event === 'ramp-paused').map((c) => c.route));
    for (const { route, latch, reason } of plan.reverts) {
      this.counted.reverts.inc({ route, rule: latch.rule });
      logger.warn({ route, rule: latch.rule, from: from.get(route), evidence: latch.evidence }, `guard: reverted ${route} to legacy: ${reason}`);
    }
    for (const { route, reason } of plan.pauses.filter((p) => paused.has(p.route))) logger.warn({ route, reason }, `ramp: paused ${route} on a breach (onBreach: pause); resume, promote or abort it`);
    if (plan.reverts.length === 0 || !plan.trigger) return;
    const v = plan.trigger.verdict;
    this.webhooks.send({
      type: 'reverted',
      time: iso(now),
      routes: plan.reverts.map((r) => r.route),
      trigger: plan.trigger.route,
      rule: v.breaches[0].rule,
      reason: v.summary,
      evidence: evidenceOf(v),
      scope: this.config.scope,
    });
  }

  private stateName(route: string): GuardStateName {
    const policy = this.policies.get(route);
    if (!policy?.enabled || !this.config.enabled) return 'disabled';
    if (this.deps.control.latch(route)) return 'reverted';
    const v = this.states.get(route)?.lastVerdict;
    if (!v) return 'insufficient-data';
    return v.kind === 'breach' ? 'breaching' : v.kind;
  }

  /** What GET /api/v1/guard and `cutover status` show. */
  status() {
    return guardStatus({
      config: this.config,
      mode: this.mode,
      observations: this.observations,
      routes: this.routes.map((r) => ({ name: r.name, policy: this.policies.get(r.name), state: this.stateName(r.name), guard: this.states.get(r.name) })),
      control: this.deps.control,
      now: this.clock(),
    });
  }
}
