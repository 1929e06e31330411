// `cutover validate` lists every problem in one pass: the schema's, the ramp's, and what `start`
// would refuse (a non-loopback admin listener without a token).
import { expect, it } from 'vitest';
import { runCli, writeConfig } from './helpers/process.js';

it('lists schema problems, ramp problems and an unprotected admin together', async () => {
  const file = writeConfig({
    backends: { legacy: { upstreams: ['http://127.0.0.1:9'] }, candidate: { upstreams: ['http://127.0.0.1:9'] } },
    routes: [
      { name: 'a', candidatePercent: 150, ramp: { steps: [5, 50, 25] } },
      { name: 'b', candidatePercent: 0, ramp: { stepWeight: 30 } },
    ],
    admin: { host: '0.0.0.0' },
  });
  const r = await runCli(['validate', '--config', file], { CUTOVER_ADMIN_TOKEN: '' });
  expect(r.code).toBe(2);
  expect(r.stderr).toContain('routes[0].candidatePercent: must be <= 100, got 150');
  expect(r.stderr).toContain('routes[0].ramp.steps[2]: must be above the step before it (50), got 25');
  expect(r.stderr).toContain('routes[1].ramp.stepWeight: 30 does not land exactly on maxWeight 100');
  expect(r.stderr).toContain('admin.host is 0.0.0.0, which is not loopback, and no admin token is set');
}, 30_000);
