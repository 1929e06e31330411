// Admin endpoints that read the state or act on the process: status, drain, history, the guard,
// restart and reload.
import type { FastifyInstance } from 'fastify';
import type { Control } from '../control/control.js';
import type { AdminDeps } from './deps.js';
import { answer, optionalReason, reasonSchema, sourceOf } from './reply.js';

export function registerOpsRoutes(app: FastifyInstance, deps: AdminDeps): void {
  const { control } = deps;
  app.get('/api/v1/status', async () => status(deps));
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

  registerGuardRoutes(app, deps);
  registerProcessRoutes(app, deps);
}

/** The guard's status and its re-arm. */
function registerGuardRoutes(app: FastifyInstance, deps: AdminDeps): void {
  const { control } = deps;
  if (deps.guardStatus) {
    const guardStatus = deps.guardStatus;
    app.get('/api/v1/guard', async () => guardStatus());
    app.post('/api/v1/guard/rearm', { schema: { body: optionalReason } }, async (req, reply) => {
      const b = (req.body ?? {}) as { reason?: string; route?: string };
      const { changes, saved } = control.rearm({ route: b.route, source: sourceOf(req), reason: b.reason ?? 'rearm' });
      return answer(reply, control, saved, () => ({ changes, guard: guardStatus() }));
    });
  }

}

/** Restart (with workers) and config reload. */
function registerProcessRoutes(app: FastifyInstance, deps: AdminDeps): void {
  const { control } = deps;
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
