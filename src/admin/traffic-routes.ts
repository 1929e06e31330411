// Admin endpoints that move traffic: the split, promote, rollback, maintenance, and the calls
// migration runbooks already make. Thin: validate (JSON schema), call control/, answer once saved.
import type { FastifyInstance } from 'fastify';
import type { Control } from '../control/control.js';
import { answer, optionalReason, percentSchema, reasonSchema, routeSchema, sourceOf, splits } from './reply.js';

export function registerTrafficRoutes(app: FastifyInstance, control: Control): void {
  registerSplitRoutes(app, control);
  registerMaintenanceRoutes(app, control);
  registerRunbookRoutes(app, control);
}

/** The split: set, promote, roll back. */
function registerSplitRoutes(app: FastifyInstance, control: Control): void {
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

}

/** Maintenance on and off. */
function registerMaintenanceRoutes(app: FastifyInstance, control: Control): void {
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

}

/** The calls migration runbooks already make, kept as written. */
function registerRunbookRoutes(app: FastifyInstance, control: Control): void {
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
}
