// The guard's thin shell: a timer that reads window figures from stats/, asks the pure policy for
// a verdict per route, and applies it through control/ (the revert), logs, metrics and webhooks.
import type { Counter, Gauge } from 'prom-client';
import type { Config, GuardConfig, RouteConfig } from '../config/schema.js';
import type { Change, Control } from '../control/control.js';
import type { GuardLatch } from '../control/persisted.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics/metrics.js';
import type { Stats } from '../stats/store.js';
import { toWire, type WireRoute } from '../fleet/snapshots.js';
import { figuresOf } from './figures.js';
import {
  evaluate,
  initialGuardState,
  revertTargets,
  windowsToJudge,
  type Decision,
  type RouteGuardState,
  type RoutePolicy,
  type Verdict,
  type WindowFigures,
} from './policy.js';
import { WebhookSender } from './webhooks.js';

export const GUARD_STATES = ['disabled', 'idle', 'insufficient-data', 'healthy', 'breaching', 'shared-outage', 'reverted'] as const;
export type GuardStateName = (typeof GUARD_STATES)[number];

/**
 * Where the guard's figures come from, and whether this process judges at all: its own traffic
 * ('local': one process, or a replica that cannot reach the fleet), the merged figures of every
 * replica or worker ('merged': the fleet's leader, a cluster's primary), or not at all
 * ('follower': another replica leads and its reverts reach this one through the store).
 */
export interface FiguresSource {
  mode(): 'local' | 'merged' | 'follower';
  /** The merged windows of a route (undefined: no fresh snapshot holds it). */
  merged(route: string): WindowFigures[] | undefined;
}

export interface GuardDeps {
  stats: Stats;
  source?: FiguresSource;
  control: Control;
  logger: Logger;
  metrics: Metrics;
  /** Wall-clock ms (verdict times, history). */
  clock?: () => number;
  /**
   * Asked for every route a breach would revert: a ramp configured with onBreach: pause holds its
   * step for a person instead (ramp/policy.ts breachAction decides; the ramp applies the pause).
   */
  breach?: { breachAction(route: string): 'revert' | 'pause'; pauseOnBreach(route: string, reason: string, evidence: unknown): void };
  /**
   * A worker's guard: it sets the thresholds the recording side needs and reads this process's
   * figures for the primary (wireSnapshot), but never judges (no timer) and sends no webhooks.
   */
  recordOnly?: boolean;
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
    confidence: o.confidence ?? g.confidence,
    revertOnSharedOutage: g.revertOnSharedOutage,
    rules: {
      maxErrorRate: rule('maxErrorRate'),
      maxP99Ms: rule('maxP99Ms'),
      maxP99Ratio: rule('maxP99Ratio'),
      maxErrorRateDelta: rule('maxErrorRateDelta'),
    },
  };
}

/** A guard observation that is not a decision (insufficient data began or ended), kept apart from history. */
export interface Observation {
  time: string;
  route: string;
  event: string;
  summary: string;
}
const OBSERVATIONS_KEPT = 50;
/** An abandoned request is watched a little past the threshold, so that it is judged slow (or timed out) for sure. */
const WATCH_MARGIN_MS = 100;

export class GuardRunner {
  private config!: GuardConfig;
  private timeouts: Record<'legacy' | 'candidate', number> = { legacy: 30_000, candidate: 30_000 };
  private routes: readonly RouteConfig[] = [];
  private policies = new Map<string, RoutePolicy>();
  private readonly states = new Map<string, RouteGuardState>();
  /** When a route was re-armed: failures recorded before that are not judged again. */
  private readonly armedAt = new Map<string, number>();
  /** Insufficient-data transitions: shown in the status, kept out of the history (they can flap for hours). */
  private readonly observations: Observation[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly clock: () => number;
  private readonly webhooks: WebhookSender;
  private readonly reverts: Counter<string>;
  private readonly breaches: Counter<string>;
  private readonly wouldRevert: Counter<string>;
  private readonly sharedOutages: Counter<string>;
  private readonly evaluationSeconds: Gauge<string>;
  private readonly unsubscribe: () => void;

  constructor(
    private readonly deps: GuardDeps,
    config: Config,
  ) {
    this.clock = deps.clock ?? Date.now;
    this.webhooks = new WebhookSender(deps.recordOnly ? [] : config.guard.webhooks, deps.logger);
    const m = deps.metrics;
    this.reverts = m.counter('cutover_guard_reverts_total', 'Reverts to legacy the guard made, by route and rule.', ['route', 'rule']);
    this.breaches = m.counter('cutover_guard_breaches_total', 'Breaches the guard detected (held for `consecutive` evaluations), dry runs included.', ['route', 'rule', 'dry_run']);
    this.wouldRevert = m.counter('cutover_guard_would_revert_total', 'Reverts a dry-run guard would have made, by route and rule.', ['route', 'rule']);
    this.sharedOutages = m.counter('cutover_guard_shared_outages_total', 'Breaches legacy showed too (not the candidate\'s fault; not reverted unless revertOnSharedOutage), by route and rule.', ['route', 'rule']);
    this.evaluationSeconds = m.gauge('cutover_guard_evaluation_seconds', 'How long the last evaluation of every route took.', []);
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
    this.timeouts = { legacy: config.backends.legacy.timeouts.responseMs, candidate: config.backends.candidate.timeouts.responseMs };
    this.webhooks.urls = this.deps.recordOnly ? [] : config.guard.webhooks;
    this.policies = new Map(config.routes.map((r) => [r.name, routePolicy(config.guard, r)]));
    for (const name of [...this.states.keys()]) if (!this.policies.has(name)) this.states.delete(name);
    // The recording side needs the latency threshold: what counts as slow, and how long an
    // upstream request is watched after its client gave up (to learn whether it hung).
    for (const r of config.routes) {
      const p = this.policies.get(r.name)!;
      const judging = config.guard.enabled && p.enabled;
      const slowMs = judging ? p.rules.maxP99Ms : null;
      const s = this.deps.stats.route(r.name);
      for (const b of ['legacy', 'candidate'] as const) {
        s[b].slowUs = slowMs === null ? Infinity : slowMs * 1000;
        s[b].watchAbortedMs = judging ? Math.min(slowMs ?? Infinity, this.timeouts[b]) + WATCH_MARGIN_MS : 0;
      }
    }
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
    if (this.deps.recordOnly) return;
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
  private windows(route: string, policy: RoutePolicy, now: number): WindowFigures[] {
    return this.read(route, policy, now).map(({ seconds, candidate, legacy }) => ({ seconds, candidate, legacy }));
  }

  private read(route: string, policy: RoutePolicy, now: number) {
    const g = this.config;
    const series = this.deps.stats.route(route);
    const mono = this.deps.stats.clock();
    const seconds = windowsToJudge(g.windowSeconds, g.fastWindowSeconds, this.armedAt.get(route), now);
    const ratio = policy.rules.maxP99Ratio !== null;
    const ages = { legacy: [] as number[], candidate: [] as number[] };
    for (const b of ['legacy', 'candidate'] as const) {
      // Only requests old enough to count as slow or timed out matter (all of them for the ratio rule).
      const minAge = ratio ? 0 : Math.min(policy.rules.maxP99Ms ?? Infinity, this.timeouts[b]);
      ages[b] = series[b].inFlightAges(mono, minAge, 1000);
    }
    return seconds.map((w) => {
      const c = figuresOf(series.candidate, mono, w, ages.candidate, this.timeouts.candidate, ratio);
      const l = figuresOf(series.legacy, mono, w, ages.legacy, this.timeouts.legacy, ratio);
      return { seconds: w, candidate: c.figures, legacy: l.figures, histograms: { candidate: c.histogram, legacy: l.histogram } };
    });
  }

  /** This process's figures of every judged route, as plain data for the fleet's leader or the primary. */
  wireSnapshot(): Record<string, WireRoute> {
    const now = this.clock();
    const out: Record<string, WireRoute> = {};
    for (const r of this.routes) {
      const policy = this.policies.get(r.name)!;
      if (!policy.enabled || !this.config.enabled) continue;
      const ws = this.read(r.name, policy, now);
      out[r.name] = {
        windows: ws.map((w) => w.seconds),
        legacy: ws.map((w) => toWire(w.legacy, w.histograms.legacy)),
        candidate: ws.map((w) => toWire(w.candidate, w.histograms.candidate)),
        inFlightMs: { legacy: ws[0]?.legacy.inFlightMs.slice() ?? [], candidate: ws[0]?.candidate.inFlightMs.slice() ?? [] },
        timeoutMs: { ...this.timeouts },
      };
    }
    return out;
  }

  /** One evaluation of every route; applies what the policy decides. */
  tick(): void {
    const t0 = performance.now();
    const now = this.clock();
    const { control } = this.deps;
    const toRevert: Array<{ route: string; decision: Decision }> = [];
    const mode = this.deps.source?.mode() ?? 'local';
    this.mode = mode;
    // Another replica leads: it judges everyone's figures, and its reverts reach this one.
    if (mode === 'follower') return;
    for (const r of this.routes) {
      const policy = this.policies.get(r.name)!;
      if (!policy.enabled || control.latch(r.name)) continue;
      try {
        const percent = control.percent(r.name) ?? 0;
        const state = this.states.get(r.name) ?? initialGuardState(now);
        const windows = percent <= 0 ? [] : mode === 'merged' ? (this.deps.source!.merged(r.name) ?? []) : this.windows(r.name, policy, now);
        const decision = evaluate({ windows, policy, state, candidatePercent: percent, now, intervalMs: this.config.intervalMs });
        this.states.set(r.name, decision.state);
        this.report(r.name, decision);
        if (decision.action === 'revert') toRevert.push({ route: r.name, decision });
      } catch (err) {
        // A fault in judging one route must neither stop the others nor take the data plane down.
        this.deps.logger.error({ route: r.name, err: (err as Error).stack }, 'guard: evaluating the route failed');
      }
    }
    if (toRevert.length > 0) this.revert(toRevert, now);
    this.evaluationSeconds.set((performance.now() - t0) / 1000);
  }

  private observe(route: string, event: string, summary: string, at: number): void {
    this.observations.unshift({ time: iso(at), route, event, summary });
    if (this.observations.length > OBSERVATIONS_KEPT) this.observations.length = OBSERVATIONS_KEPT;
  }

  private report(route: string, d: Decision): void {
    const { logger, control } = this.deps;
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
        case 'shared-outage': {
          for (const b of e.breaches) this.sharedOutages.inc({ route, rule: b.rule });
          logger.warn({ route, breaches: e.breaches }, `guard: ${route}: ${v.summary}`);
          control.note({ source: 'guard', kind: 'guard', route, from: 'armed', to: 'shared-outage', reason: v.summary });
          this.webhooks.send({ type: 'shared-outage', time: iso(v.at), route, rule: e.breaches[0].rule, reason: v.summary, evidence });
          break;
        }
        case 'breach-detected': {
          const rule = e.breaches[0].rule;
          this.breaches.inc({ route, rule, dry_run: String(e.dryRun) });
          if (e.dryRun) {
            this.wouldRevert.inc({ route, rule });
            logger.warn({ route, rule, evidence }, `guard (dry run): would revert ${route}: ${v.summary}`);
            control.note({ source: 'guard', kind: 'guard', route, from: 'armed', to: 'would-revert', reason: v.summary });
            this.webhooks.send({ type: 'would-revert', time: iso(v.at), route, rule, reason: v.summary, evidence, dryRun: true });
          } else {
            control.note({ source: 'guard', kind: 'guard', route, from: 'armed', to: 'breach-detected', reason: v.summary });
            this.webhooks.send({ type: 'breach-detected', time: iso(v.at), route, rule, reason: v.summary, evidence, dryRun: false });
          }
          break;
        }
        case 'recovered':
          logger.info({ route, verdict: v.summary }, `guard: the breach on ${route} cleared before the guard acted`);
          break;
      }
    }
  }

  private revert(triggers: Array<{ route: string; decision: Decision }>, now: number): void {
    const { control, logger } = this.deps;
    const first = triggers[0];
    const affected = revertTargets(
      this.config.scope,
      triggers.map((t) => t.route),
      this.routes.map((r) => ({ name: r.name, policy: this.policies.get(r.name)!, latched: control.latch(r.name) !== undefined })),
    );
    const reverted: string[] = [];
    for (const route of affected) {
      const t = triggers.find((x) => x.route === route) ?? first;
      const v = t.decision.verdict;
      const rule = v.breaches[0].rule;
      const reason = t.route === route ? v.summary : `scope all: ${t.route} breached: ${v.summary}`;
      if (this.deps.breach?.breachAction(route) === 'pause') {
        this.deps.breach.pauseOnBreach(route, reason, { route: t.route, ...evidenceOf(v) });
        continue;
      }
      reverted.push(route);
      const latch: GuardLatch = { state: 'reverted', since: iso(now), rule, reason, evidence: { route: t.route, ...evidenceOf(v) } };
      const from = control.percent(route);
      control.revert([route], latch, reason);
      this.reverts.inc({ route, rule });
      logger.warn({ route, rule, from, evidence: latch.evidence }, `guard: reverted ${route} to legacy: ${reason}`);
    }
    if (reverted.length === 0) return;
    const v = first.decision.verdict;
    this.webhooks.send({
      type: 'reverted',
      time: iso(now),
      routes: reverted,
      trigger: first.route,
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
    const now = this.clock();
    const g = this.config;
    return {
      enabled: g.enabled,
      judging: this.mode,
      dryRun: g.dryRun,
      scope: g.scope,
      intervalMs: g.intervalMs,
      windowSeconds: g.windowSeconds,
      fastWindowSeconds: g.fastWindowSeconds,
      minRequests: g.minRequests,
      confidence: g.confidence,
      consecutive: g.consecutive,
      revertOnSharedOutage: g.revertOnSharedOutage,
      rules: g.rules,
      observations: this.observations,
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

/** A verdict's evidence as logs, history, latches and webhooks carry it. */
function evidenceOf(v: Verdict) {
  return { ...v.evidence, rules: v.rules };
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function verdictView(v: Verdict) {
  return { ...v, at: iso(v.at) };
}
