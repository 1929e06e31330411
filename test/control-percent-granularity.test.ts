// Percentages enter control/ at one fixed granularity (0.0001 %): whatever arithmetic produced
// them (100 - 99.99, a config, a ramp step, a state file), control stores, persists and reports
// the rounded value.
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config/load.js';
import { Control } from '../src/control/control.js';
import { rampRules } from '../src/ramp/machine.js';
import { roundPercent } from '../src/split/percent.js';

const config = () => parseConfig({ backends: { legacy: { upstreams: ['http://127.0.0.1:9'] }, candidate: { upstreams: ['http://127.0.0.1:9'] } }, routes: [{ name: 'default', match: { pathPrefix: '/' }, candidatePercent: 100 - 99.99 }] });

describe('roundPercent', () => {
  it.each([
    [100 - 99.99, 0.01],
    [0.1 + 0.2, 0.3],
    [33.33333333, 33.3333],
    [0.00004, 0],
    [0.00005, 0.0001],
    [99.99995, 100],
    [0, 0],
    [100, 100],
  ])('%s → %s', (input, out) => expect(roundPercent(input)).toBe(out));
});

describe('control keeps percentages at 0.0001', () => {
  it('from the config, a set split, a ramp step and another replica\'s state', () => {
    const control = new Control(config(), undefined, undefined, () => 0, rampRules);
    expect(control.percent('default')).toBe(0.01);
    control.setSplit(100 - 99.99, { source: 'api' });
    expect(control.percent('default')).toBe(0.01);
    expect(control.setSplit(12.345678, { source: 'api' }).changes[0].to).toBe(12.3457);
    const ramp = { status: 'running' as const, steps: [0.1 + 0.2], step: 0, startedAt: new Date(0).toISOString(), stepStartedAt: new Date(0).toISOString(), holdUntil: new Date(1000).toISOString() };
    control.applyRamp('default', { state: ramp, percent: 0.1 + 0.2 }, { source: 'ramp' });
    expect(control.percent('default')).toBe(0.3);
    const remote = control.toPersisted();
    remote.routes.default.candidatePercent = 100 - 99.99;
    control.applyRemote(remote);
    expect(control.toPersisted().routes.default.candidatePercent).toBe(0.01);
  });
});
