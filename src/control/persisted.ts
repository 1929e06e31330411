// The shape of the state file, and the check that decides whether a file on disk is usable.
import { RAMP_STATUSES, STATE_VERSION } from '../state/types.js';

export { STATE_VERSION };
export type { GuardLatch, PersistedState } from '../state/types.js';

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** An error message when `v` is not a usable state file, undefined when it is. */
export function checkPersisted(v: unknown): string | undefined {
  if (!isObject(v)) return 'not a JSON object';
  if (v.version !== STATE_VERSION) return `version must be ${STATE_VERSION}, got ${JSON.stringify(v.version)}`;
  if (!isObject(v.routes)) return 'routes must be an object';
  for (const [name, r] of Object.entries(v.routes)) {
    const p = isObject(r) ? r.candidatePercent : undefined;
    if (typeof p !== 'number' || !(p >= 0 && p <= 100)) return `routes.${name}.candidatePercent must be a number from 0 to 100`;
    const sp = (r as Record<string, unknown>).shadowPercent;
    if (sp !== undefined && (typeof sp !== 'number' || !(sp >= 0 && sp <= 100))) return `routes.${name}.shadowPercent must be a number from 0 to 100`;
  }
  const m = v.maintenance;
  if (!isObject(m) || typeof m.enabled !== 'boolean' || typeof m.retryAfterSeconds !== 'number' || typeof m.message !== 'string') {
    return 'maintenance must be {enabled, retryAfterSeconds, message}';
  }
  if (v.guard !== undefined && !isObject(v.guard)) return 'guard must be an object';
  if (v.history !== undefined && !Array.isArray(v.history)) return 'history must be a list';
  if (v.ramp !== undefined) {
    if (!isObject(v.ramp)) return 'ramp must be an object';
    for (const [name, r] of Object.entries(v.ramp)) {
      const problem = rampProblem(r);
      if (problem) return `ramp.${name}: ${problem}`;
    }
  }
  return undefined;
}

function rampProblem(r: unknown): string | undefined {
  if (!isObject(r)) return 'must be an object';
  if (!RAMP_STATUSES.includes(r.status as never)) return `status must be one of ${RAMP_STATUSES.join(', ')}`;
  const steps = r.steps;
  if (!Array.isArray(steps) || steps.length === 0 || !steps.every((s) => typeof s === 'number' && s > 0 && s <= 100)) return 'steps must be a list of percentages';
  if (!Number.isInteger(r.step) || (r.step as number) < 0 || (r.step as number) >= steps.length) return 'step must index steps';
  for (const k of ['startedAt', 'stepStartedAt', 'holdUntil'] as const) if (typeof r[k] !== 'string' || Number.isNaN(Date.parse(r[k] as string))) return `${k} must be a time`;
  return undefined;
}
