// A scope-all guard revert of many routes costs one state write, made after the revert returns:
// the revert itself never waits for the disk (it used to write synchronously once per route).
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { parseConfig } from '../src/config/load.js';
import { Control } from '../src/control/control.js';
import { rampRules } from '../src/ramp/machine.js';
import { checkPersisted, type PersistedState } from '../src/control/persisted.js';
import { GuardRunner } from '../src/guard/runner.js';
import { createLogger } from '../src/log.js';
import { createMetrics } from '../src/metrics/metrics.js';
import { seriesFigures } from '../src/metrics/port.js';
import { FileStateStore } from '../src/state/file-store.js';
import { Stats } from '../src/stats/store.js';
import { waitFor } from './helpers/servers.js';

const ROUTES = 12;

it('reverts every route in one step and writes the state file once, afterwards', async () => {
  const file = join(mkdtempSync(join(tmpdir(), 'cutover-revert-')), 'state.json');
  const config = parseConfig({
    backends: { legacy: { upstreams: ['http://127.0.0.1:9'] }, candidate: { upstreams: ['http://127.0.0.1:9'] } },
    routes: Array.from({ length: ROUTES }, (_, i) => ({ name: `r${i}`, match: { pathPrefix: `/r${i}` }, candidatePercent: 10 })),
    guard: { minRequests: 20, scope: 'all' },
  });
  const clock = { now: 1_000_000 };
  const stats = new Stats(60, 60, () => clock.now);
  const logger = createLogger('silent');
  const control = new Control(config, new FileStateStore<PersistedState>(file, checkPersisted), logger, () => clock.now, rampRules);
  await control.restore();
  const metrics = createMetrics({ control, figures: () => seriesFigures(stats), version: 'test', windowSeconds: stats.windowSeconds });
  const guard = new GuardRunner({ stats, control, logger, metrics, clock: () => clock.now }, config);
  try {
    const series = stats.route('r0');
    const onDisk = () => JSON.parse(readFileSync(file, 'utf8')) as PersistedState;
    /** One second of traffic on r0, the candidate failing at `errors`; the guard judges it. */
    const second = (errors: number) => {
      for (let i = 0; i < 50; i++) series.candidate.record(clock.now + i, i < 50 * errors ? 500 : 200, null, 5000, false);
      for (let i = 0; i < 450; i++) series.legacy.record(clock.now + i, 200, null, 5000, false);
      clock.now += 1000;
      guard.tick();
    };
    for (let s = 0; s < 5; s++) second(0);

    // Breach until the guard reverts; before each judgement every earlier write has landed.
    let writesBefore = 0;
    for (let s = 0; s < 10 && control.latch('r0') === undefined; s++) {
      await waitFor(() => !control.persistence().pending, 5000, 'earlier writes landed');
      writesBefore = control.persistence().writes;
      second(1);
    }
    expect(control.routes().filter((r) => control.latch(r) !== undefined)).toHaveLength(ROUTES);
    expect(control.routes().map((r) => control.percent(r))).toEqual(Array(ROUTES).fill(0));
    // The revert has returned and the file is untouched: nothing waited for the disk.
    expect(Object.values(onDisk().routes).map((r) => r.candidatePercent)).toEqual(Array(ROUTES).fill(10));

    await waitFor(() => !control.persistence().pending, 5000, 'the revert written');
    expect(control.persistence().writes - writesBefore).toBe(1);
    const saved = onDisk();
    expect(Object.values(saved.routes).map((r) => r.candidatePercent)).toEqual(Array(ROUTES).fill(0));
    expect(Object.keys(saved.guard ?? {})).toHaveLength(ROUTES);
  } finally {
    await guard.close();
    metrics.close();
    await control.flush();
  }
});
