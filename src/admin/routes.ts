// Admin endpoints. Each is thin: validate (JSON schema), call control/, answer with the result
// once the change is on disk (see answer() for what is said when it cannot be).
import type { ParityStore } from '../parity/store.js';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { DataPlaneView } from '../app.js';
import type { RouteConfig } from '../config/schema.js';
import type { Control, Saved, Source } from '../control/control.js';
import type { RampRunner } from '../ramp/runner.js';
import type { Report } from '../report/build.js';
import { registerRampRoutes } from './ramp-routes.js';
import { registerParityRoutes } from './parity-routes.js';

export interface AdminDeps {
  control: Control;
  /** The Prometheus exposition (with workers: the primary's and every worker's, aggregated). */
  metrics(): Promise<string>;
  metricsContentType: string;
  /** Requests in flight (with workers: asked of every worker). */
  inFlight(): Promise<number>;
  /** Figures, nodes and (with workers) the workers, as GET /api/v1/status shows them. */
  dataPlane(): Promise<DataPlaneView>;
  ready(): boolean;
  info(): { version: string; configFile: string | undefined; stateFile: string | undefined; startedAt: number };
  routeConfigs(): readonly RouteConfig[];
  /** Guard status per route (the guard issue); undefined when the guard is off. */
  guardStatus?(): unknown;
  /** Fleet mode: replicas, leader, generation, the store's health; undefined for one process. */
  fleet?(): unknown;
  /** Ramps: status and operator commands (ramp/runner.ts). */
  ramp?: RampRunner;
  /** The migration scorecard. */
  report?(): Promise<Report>;
  /** Re-read the config file; throws ConfigError when it is invalid. */
  reload?(by: { source: Source; reason?: string; applyPercentages?: boolean }): Promise<unknown>;
  /** With workers: replace them with new ones running the code and config on disk (SIGUSR2). */
  restart?(by: { source: Source; reason?: string }): Promise<unknown>;
  /** Parity figures of the routes' shadow taps (admin/parity-routes.ts). */
  parity?: ParityStore;
}

const percentSchema = { type: 'number', minimum: 0, maximum: 100, description: 'a number from 0 to 100' };
const reasonSchema = { type: 'string', maxLength: 500, description: 'a short text saying why (at most 500 characters)' };
const routeSchema = { type: 'string', minLength: 1, description: 'the name of a configured route' };

export const sourceOf = (req: FastifyRequest): Source => {
  const s = req.headers['x-cutover-source'];
  return s === 'cli' || s === 'dashboard' ? s : 'api';
};

export function registerApiRoutes(app: FastifyInstance, deps: AdminDeps): void {
  const { control } = deps;

  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    const ready = deps.ready();
    return reply.code(ready ? 200 : 503).send({ ready });
  });
  app.get('/metrics', async (_req, reply) => {
    reply.header('content-type', deps.metricsContentType);
    return deps.metrics();
  });

  app.get('/api/v1/status', async () => status(deps));

  app.put(
    '/api/v1/split',
    {
      schema: {
        body: {
          type: 'object',
          description: '{"candidatePercent": 0..100, "route"?: "name" (all routes when absent), "reason"?: "text"}',
          required: ['candidatePercent'],
          additionalProperties: false,
          properties: { candidatePercent: percentSchema, route: routeSchema, reason: reasonSchema },
        },
      },
    },
    async (req, reply) => {
      const b = req.body as { candidatePercent: number; route?: string; reason?: string };
      const { changes, saved } = control.setSplit(b.candidatePercent, { route: b.route, source: sourceOf(req), reason: b.reason });
      return answer(reply, control, saved, () => ({ changes, routes: splits(control) }));
    },
  );

  const optionalReason = {
    type: 'object',
    description: '{"reason"?: "text", "route"?: "name"} or no body',
    additionalProperties: false,
    properties: { reason: reasonSchema, route: routeSchema },
  };
  app.post('/api/v1/promote', { schema: { body: optionalReason } }, async (req, reply) => {
    const b = (req.body ?? {}) as { reason?: string; route?: string };
    const { changes, saved } = control.setSplit(100, { route: b.route, source: sourceOf(req), reason: b.reason ?? 'promote' });
    return answer(reply, control, saved, () => ({ changes, routes: splits(control) }));
  });

  app.post(
    '/api/v1/rollback',
    {
      schema: {
        body: {
          type: 'object',
          description: '{"reason": "why you roll back"}',
          required: ['reason'],
          additionalProperties: false,
          properties: { reason: { ...reasonSchema, minLength: 1 } },
        },
      },
    },
    async (req, reply) => {
      const b = req.body as { reason: string };
      const { changes, saved } = control.setSplit(0, { source: sourceOf(req), reason: b.reason });
      return answer(reply, control, saved, () => ({ changes, routes: splits(control) }));
    },
  );

  app.post(
    '/api/v1/maintenance',
    {
      schema: {
        body: {
          type: 'object',
          description: '{"enabled": true|false, "retryAfterSeconds"?: 0..86400, "message"?: "text", "reason"?: "text"}',
          required: ['enabled'],
          additionalProperties: false,
          properties: {
            enabled: { type: 'boolean', description: 'true or false' },
            retryAfterSeconds: { type: 'integer', minimum: 0, maximum: 86400, description: 'a whole number of seconds from 0 to 86400' },
            message: { type: 'string', maxLength: 500, description: 'a text of at most 500 characters' },
            reason: reasonSchema,
          },
        },
      },
    },
    async (req, reply) => {
      const b = req.body as { enabled: boolean; retryAfterSeconds?: number; message?: string; reason?: string };
      const { change, saved } = control.setMaintenance(b, { source: sourceOf(req), reason: b.reason });
      return answer(reply, control, saved, () => ({ change: change ?? null, maintenance: control.maintenance }));
    },
  );

  app.post(
    '/api/v1/drain',
    {
      schema: {
        body: {
          type: 'object',
          description: '{"timeoutSeconds": 0..3600} or no body (30 s)',
          additionalProperties: false,
          properties: { timeoutSeconds: { type: 'number', minimum: 0, maximum: 3600, description: 'a number of seconds from 0 to 3600' } },
        },
      },
    },
    async (req) => {
      const b = (req.body ?? {}) as { timeoutSeconds?: number };
      return drain(deps, (b.timeoutSeconds ?? 30) * 1000);
    },
  );

  app.get(
    '/api/v1/history',
    {
      schema: {
        querystring: {
          type: 'object',
          description: '?limit=1..500',
          additionalProperties: false,
          properties: { limit: { type: 'string', pattern: '^[0-9]{1,3}$', description: 'a whole number from 1 to 500' } },
        },
      },
    },
    async (req) => {
      const limit = Number((req.query as { limit?: string }).limit ?? 500);
      return { history: control.history(Math.max(1, Math.min(500, limit))) };
    },
  );

  // The calls our users' migration runbooks already make, kept as written.
  app.post('/api/maintenance-mode/enable', async (req, reply) => {
    const { saved } = control.setMaintenance({ enabled: true }, { source: sourceOf(req), reason: 'runbook: maintenance-mode/enable' });
    return answer(reply, control, saved, () => ({ maintenance: control.maintenance }));
  });
  app.post('/api/maintenance-mode/disable', async (req, reply) => {
    const { saved } = control.setMaintenance({ enabled: false }, { source: sourceOf(req), reason: 'runbook: maintenance-mode/disable' });
    return answer(reply, control, saved, () => ({ maintenance: control.maintenance }));
  });
  const pathPercent = {
    type: 'object',
    description: 'a percentage from 0 to 100 in the path, e.g. /api/traffic/candidate-percentage/25',
    properties: { percent: { type: 'string', pattern: '^(100(\\.0+)?|[0-9]{1,2}(\\.[0-9]+)?)$', description: 'a number from 0 to 100' } },
  };
  app.post('/api/traffic/candidate-percentage/:percent', { schema: { params: pathPercent } }, async (req, reply) => {
    const p = Number((req.params as { percent: string }).percent);
    const { changes, saved } = control.setSplit(p, { source: sourceOf(req), reason: `runbook: candidate-percentage/${p}` });
    return answer(reply, control, saved, () => ({ changes, routes: splits(control) }));
  });
  app.post('/api/traffic/legacy-percentage/:percent', { schema: { params: pathPercent } }, async (req, reply) => {
    const p = Number((req.params as { percent: string }).percent);
    const { changes, saved } = control.setSplit(100 - p, { source: sourceOf(req), reason: `runbook: legacy-percentage/${p}` });
    return answer(reply, control, saved, () => ({ changes, routes: splits(control) }));
  });

  if (deps.guardStatus) {
    const guardStatus = deps.guardStatus;
    app.get('/api/v1/guard', async () => guardStatus());
    app.post('/api/v1/guard/rearm', { schema: { body: optionalReason } }, async (req, reply) => {
      const b = (req.body ?? {}) as { reason?: string; route?: string };
      const { changes, saved } = control.rearm({ route: b.route, source: sourceOf(req), reason: b.reason ?? 'rearm' });
      return answer(reply, control, saved, () => ({ changes, guard: guardStatus() }));
    });
  }

  registerRampRoutes(app, deps);
  registerParityRoutes(app, deps.parity);
  if (deps.restart) {
    const restart = deps.restart;
    const body = { type: 'object', description: '{"reason"?: "text"} or no body', additionalProperties: false, properties: { reason: reasonSchema } };
    app.post('/api/v1/restart', { schema: { body } }, async (req) => restart({ source: sourceOf(req), reason: (req.body as { reason?: string } | undefined)?.reason }));
  }

  if (deps.reload) {
    const reload = deps.reload;
    app.post(
      '/api/v1/config/reload',
      {
        schema: {
          body: {
            type: 'object',
            description: '{"reason"?: "text", "applyPercentages"?: true (also apply the file\'s percentages to existing routes)} or no body',
            additionalProperties: false,
            properties: { reason: reasonSchema, applyPercentages: { type: 'boolean', description: 'true or false' } },
          },
        },
      },
      async (req, reply) => {
        const b = (req.body ?? {}) as { reason?: string; applyPercentages?: boolean };
        const r = (await reload({ source: sourceOf(req), reason: b.reason, applyPercentages: b.applyPercentages })) as { persisted?: boolean };
        // Percentages applied but not saved: said like any other change that is not on disk.
        if (r.persisted === false && control.persistence().store !== null) reply.code(202);
        return r;
      },
    );
  }
}

/**
 * Answer a change once its write settled. On disk: 200, "persisted": true. No state file
 * configured: 200, "persisted": false. In effect but not saved (a move toward legacy while the
 * file cannot be written): 202, "persisted": false and "stateError" saying why; it is saved when
 * the file can be written again. A move away from legacy that cannot be saved is undone and
 * `saved` rejects with StoreUnavailableError, which the error handler answers 503.
 * The body is built after the write, so it shows the state after any undo.
 */
export async function answer<B extends object>(reply: FastifyReply, control: Control, saved: Promise<Saved>, body: () => B) {
  const s = await saved;
  if (s.persisted) return { ...body(), persisted: true };
  if (control.persistence().store === null) return { ...body(), persisted: false };
  reply.code(202);
  return { ...body(), persisted: false, stateError: s.reason };
}

function splits(control: Control): Record<string, number> {
  return Object.fromEntries(control.routes().map((r) => [r, control.percent(r) ?? 0]));
}

async function status(deps: AdminDeps) {
  const info = deps.info();
  const { control } = deps;
  const data = await deps.dataPlane();
  return {
    version: info.version,
    configFile: info.configFile ?? null,
    stateFile: info.stateFile ?? null,
    restoredFrom: control.restoredFrom,
    uptimeSeconds: Math.round((Date.now() - info.startedAt) / 1000),
    windowSeconds: data.windowSeconds,
    inFlight: data.inFlight,
    maintenance: control.maintenance,
    state: stateOf(control),
    nodes: data.nodes,
    discovery: data.discovery ?? null,
    fleet: deps.fleet?.() ?? { mode: 'single' },
    ...(data.workers === undefined ? {} : { workers: data.workers }),
    routes: deps.routeConfigs().map((r) => ({
      name: r.name,
      candidatePercent: control.percent(r.name) ?? 0,
      match: r.match,
      sticky: r.sticky ?? null,
      guard: control.latch(r.name) ?? null,
      ramp: control.ramp(r.name) ?? null,
      backends: data.routes[r.name] ?? null,
    })),
  };
}

function stateOf(control: Control) {
  const p = control.persistence();
  return { file: p.file, store: p.store, persisted: p.persisted, lastError: p.lastError, writeFailures: p.failures };
}

async function drain(deps: AdminDeps, timeoutMs: number) {
  const started = Date.now();
  const initially = await deps.inFlight();
  let inFlight = initially;
  while (inFlight > 0 && Date.now() - started < timeoutMs) {
    await new Promise((r) => setTimeout(r, 10));
    inFlight = await deps.inFlight();
  }
  return {
    drained: inFlight === 0,
    inFlightAtStart: initially,
    finished: Math.max(0, initially - inFlight),
    inFlight,
    waitedMs: Date.now() - started,
    timedOut: inFlight > 0,
  };
}
