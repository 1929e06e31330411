// The ramp's transitions as control/ uses them (control/ramp-port.ts): handed to Control by the
// wiring, so that control keeps ramps consistent with the split without importing ramp/.
import type { RampRules } from '../control/ramp-port.js';
import { active, failed, pausedByBreach, rampEvent, rampLabel, superseded } from './policy.js';

export const rampRules: RampRules = { active, superseded, failed, pausedByBreach, event: rampEvent, label: rampLabel };
