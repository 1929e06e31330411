// The guard's thin shell: a timer that reads window figures from stats/, asks the pure policy for
// a verdict per route, and applies it through control/ (the revert), logs, metrics and webhooks.
import type { Counter, Gauge } from 'prom-client';
import type { Config, GuardConfig, RouteConfig } from '../config/schema.js';
import type { Change, Control } from '../control/control.js';
import type { GuardLatch } from '../control/persisted.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics/metrics.js';
import type { SeriesView } from '../stats/series.js';
import type { Stats } from '../stats/store.js';
import { evaluate, initialGuardState, type Decision, type Figures, type RouteGuardState, type RoutePolicy, type Verdict, type WindowFigures } from './policy.js';
import { WebhookSender } from './webhooks.js';

export const GUARD_STATES = ['disabled', 'idle', 'insufficient-data', 'healthy', 'breaching', 'reverted'] as const;
export type GuardStateName = (typeof GUARD_STATES)[number];

export interface GuardDeps {
  stats: Stats;
  control: Control;
  logger: Logger;
  metrics: Metrics;
  /** Wall-clock ms (verdict times, history). */
  clock?: () => number;
}

/** The global guard settings with a route's overrides applied. */
export function routePolicy(g: GuardConfig, r: RouteConfig): RoutePolicy {
  const o = r.guard ?? {};
  const rule = <K extends keyof GuardConfig['rules']>(k: K): number | null => {
    const v = o.rules?.[k];
    return v === undefined ? (g.rules[k] ?? null) : v; // an explicit null turns the rule off for this route
  };
  return {
    enabled: g.enabled && (o.enabled ?? true),
    minRequests: o.minRequests ?? g.minRequests,
    consecutive: o.consecutive ?? g.consecutive,
    dryRun: o.dryRun ?? g.dryRun,
    rules: {
      maxErrorRate: rule('maxErrorRate'),
      maxP99Ms: rule('maxP99Ms'),
      maxP99Ratio: rule('maxP99Ratio'),
      maxErrorRateDelta: rule('maxErrorRateDelta'),
    },
  };
}

function figuresOf(v: SeriesView): Figures {
  const c = v.counters;
  const errors = c.status[4] + c.refused + c.reset + c.timeout + c.other;
  const h = v.histogram;
  return {
    requests: c.requests,
    errorRate: c.requests === 0 ? 0 : errors / c.requests,
    p99Ms: h.totalCount === 0 ? 0 : h.getValueAtPercentile(99) / 1000,
  };
}

export class GuardRunner {
  private config!: GuardConfig;
  private routes: readonly RouteConfig[] = [];
  private policies = new Map<string, RoutePolicy>();
  private readonly states = new Map<string, RouteGuardState>();
  /** When a route was re-armed: failures recorded before that are not judged again. */
  private readonly armedAt = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private readonly clock: () => number;
  private readonly webhooks: WebhookSender;
  private readonly reverts: Counter<string>;
  private readonly breaches: Counter<string>;
  private readonly wouldRevert: Counter<string>;
  private readonly unsubscribe: () => void;

  constructor(
    private readonly deps: GuardDeps,
    config: Config,
  ) {
    this.clock = deps.clock ?? Date.now;
    this.webhooks = new WebhookSender(config.guard.webhooks, deps.logger);
    const m = deps.metrics;
    this.reverts = m.counter('cutover_guard_reverts_total', 'Reverts to legacy the guard made, by route and rule.', ['route', 'rule']);
    this.breaches = m.counter('cutover_guard_breaches_total', 'Breaches the guard detected (held for `consecutive` evaluations), dry runs included.', ['route', 'rule', 'dry_run']);
    this.wouldRevert = m.counter('cutover_guard_would_revert_total', 'Reverts a dry-run guard would have made, by route and rule.', ['route', 'rule']);
    m.gauge('cutover_guard_state', 'Guard state per route: 1 for the current state, 0 for the others.', ['route', 'state'], (g: Gauge<string>) => {
      g.reset();
      for (const r of this.routes) {
        const current = this.stateName(r.name);
        for (const s of GUARD_STATES) g.set({ route: r.name, state: s }, s === current ? 1 : 0);
      }
    });
    // A re-arm (API or CLI) starts the route's judgement afresh, and is announced.
    this.unsubscribe = deps.control.onChange((c: Change) => {
      if (c.kind === 'guard' && c.to === 'armed' && c.route) {
        this.states.set(c.route, initialGuardState(this.clock()));
        this.armedAt.set(c.route, this.clock());
        this.webhooks.send({ type: 'rearmed', time: c.time, route: c.route, source: c.source, reason: c.reason ?? null });
      }
    });
    this.configure(config);
  }

  /** Apply (new) guard settings and routes; judgement state of routes that remain is kept. */
  configure(config: Config): void {
    this.config = config.guard;
    this.routes = config.routes;
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

  /** One evaluation of every route; applies what the policy decides. */
  tick(): void {
    const now = this.clock();
    const { control, stats } = this.deps;
    const g = this.config;
    const seconds = g.fastWindowSeconds !== null && g.fastWindowSeconds < g.windowSeconds ? [g.windowSeconds, g.fastWindowSeconds] : [g.windowSeconds];
    const toRevert: Array<{ route: string; decision: Decision }> = [];
    for (const r of this.routes) {
      const policy = this.policies.get(r.name)!;
      if (!policy.enabled || control.latch(r.name)) continue;
      const armed = this.armedAt.get(r.name);
      const sinceArmed = armed === undefined ? Infinity : Math.max(1, Math.floor((now - armed) / 1000));
      const windows: WindowFigures[] = seconds.map((w) => {
        const s = Math.min(w, sinceArmed);
        return { seconds: s, candidate: figuresOf(stats.windowView(r.name, 'candidate', s)), legacy: figuresOf(stats.windowView(r.name, 'legacy', s)) };
      });
      const state = this.states.get(r.name) ?? initialGuardState(now);
      const decision = evaluate({ windows, policy, state, candidatePercent: control.percent(r.name) ?? 0, now });
      this.states.set(r.name, decision.state);
      this.report(r.name, decision);
      if (decision.action === 'revert') toRevert.push({ route: r.name, decision });
    }
    if (toRevert.length > 0) this.revert(toRevert, now);
  }

  private report(route: string, d: Decision): void {
    const { logger, control } = this.deps;
    const v = d.verdict;
    for (const e of d.events) {
      switch (e.type) {
        case 'insufficient-data-began':
          logger.info({ route, verdict: v.summary, evidence: v.evidence }, 'guard: insufficient data, not judging (neither pass nor failure)');
          // Not persisted at once: a route hovering around minRequests may flip every tick.
          control.note({ source: 'guard', kind: 'guard', route, from: 'judging', to: 'insufficient-data', reason: v.summary }, { persist: false });
          this.webhooks.send({ type: 'insufficient-data-began', time: iso(e.since), route, summary: v.summary, evidence: v.evidence });
          break;
        case 'insufficient-data-ended':
          logger.info({ route, durationMs: e.durationMs, verdict: v.kind }, 'guard: enough data again, judging');
          control.note({ source: 'guard', kind: 'guard', route, from: 'insufficient-data', to: 'judging', reason: v.summary }, { persist: false });
          this.webhooks.send({ type: 'insufficient-data-ended', time: iso(v.at), route, durationMs: e.durationMs });
          break;
        case 'breach-started':
          logger.warn({ route, breaches: e.breaches, evidence: v.evidence, consecutive: this.policies.get(route)?.consecutive }, `guard: breach seen on ${route}: ${v.summary}`);
          break;
        case 'breach-detected': {
          const rule = e.breaches[0].rule;
          this.breaches.inc({ route, rule, dry_run: String(e.dryRun) });
          if (e.dryRun) {
            this.wouldRevert.inc({ route, rule });
            logger.warn({ route, rule, breaches: e.breaches, evidence: v.evidence }, `guard (dry run): would revert ${route}: ${v.summary}`);
            control.note({ source: 'guard', kind: 'guard', route, from: 'armed', to: 'would-revert', reason: v.summary });
            this.webhooks.send({ type: 'would-revert', time: iso(v.at), route, rule, reason: v.summary, evidence: v.evidence, dryRun: true });
          } else {
            control.note({ source: 'guard', kind: 'guard', route, from: 'armed', to: 'breach-detected', reason: v.summary });
            this.webhooks.send({ type: 'breach-detected', time: iso(v.at), route, rule, reason: v.summary, evidence: v.evidence, dryRun: false });
          }
          break;
        }
        case 'recovered':
          logger.info({ route, verdict: v.summary }, 'guard: the breach cleared before the guard acted');
          break;
      }
    }
  }

  private revert(triggers: Array<{ route: string; decision: Decision }>, now: number): void {
    const { control, logger } = this.deps;
    const first = triggers[0];
    const affected = this.config.scope === 'all' ? this.routes.map((r) => r.name).filter((n) => !control.latch(n)) : triggers.map((t) => t.route);
    for (const route of affected) {
      const t = triggers.find((x) => x.route === route) ?? first;
      const v = t.decision.verdict;
      const rule = v.breaches[0].rule;
      const reason = t.route === route ? v.summary : `scope all: ${t.route} breached: ${v.summary}`;
      const latch: GuardLatch = { state: 'reverted', since: iso(now), rule, reason, evidence: { route: t.route, ...v.evidence } };
      const from = control.percent(route);
      control.revert([route], latch, reason);
      this.reverts.inc({ route, rule });
      logger.warn({ route, rule, from, evidence: latch.evidence }, `guard: reverted ${route} to legacy: ${reason}`);
    }
    this.webhooks.send({
      type: 'reverted',
      time: iso(now),
      routes: affected,
      trigger: first.route,
      rule: first.decision.verdict.breaches[0].rule,
      reason: first.decision.verdict.summary,
      evidence: first.decision.verdict.evidence,
      scope: this.config.scope,
    });
  }

  private stateName(route: string): GuardStateName {
    const policy = this.policies.get(route);
    if (!policy?.enabled) return 'disabled';
    if (this.deps.control.latch(route)) return 'reverted';
    const v = this.states.get(route)?.lastVerdict;
    if (!v) return 'insufficient-data';
    return v.kind === 'breach' ? 'breaching' : v.kind;
  }

  /** What GET /api/v1/guard and `cutover status` show. */
  status() {
    const now = this.clock();
    const g = this.config;
    return {
      enabled: g.enabled,
      dryRun: g.dryRun,
      scope: g.scope,
      intervalMs: g.intervalMs,
      windowSeconds: g.windowSeconds,
      fastWindowSeconds: g.fastWindowSeconds,
      minRequests: g.minRequests,
      consecutive: g.consecutive,
      rules: g.rules,
      routes: Object.fromEntries(
        this.routes.map((r) => {
          const s = this.states.get(r.name);
          const latch = this.deps.control.latch(r.name) ?? null;
          const lastChange = latch ? Date.parse(latch.since) : s?.lastChange;
          return [
            r.name,
            {
              state: this.stateName(r.name),
              policy: this.policies.get(r.name),
              candidatePercent: this.deps.control.percent(r.name) ?? 0,
              streak: s?.streak ?? 0,
              insufficientSince: s?.insufficientSince ? iso(s.insufficientSince) : null,
              lastVerdict: s?.lastVerdict ? verdictView(s.lastVerdict) : null,
              latch,
              lastChange: lastChange === undefined ? null : iso(lastChange),
              secondsSinceChange: lastChange === undefined ? null : Math.round((now - lastChange) / 1000),
            },
          ];
        }),
      ),
    };
  }
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function verdictView(v: Verdict) {
  return { ...v, at: iso(v.at) };
}
