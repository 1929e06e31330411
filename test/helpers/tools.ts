// External tools some tests use (promtool, prometheus from Debian's packages). .ci/run installs
// them and sets CUTOVER_REQUIRE_TOOLS=1, so in CI a missing tool fails the test instead of skipping it.
import { spawnSync } from 'node:child_process';

export function hasTool(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;
}

/** Whether to run a test needing `tool`; throws in CI when the tool is missing. */
export function toolAvailable(tool: string): boolean {
  const ok = hasTool(tool);
  if (!ok && process.env.CUTOVER_REQUIRE_TOOLS === '1') throw new Error(`${tool} is required in CI but not installed (.ci/run installs it: apt-get install prometheus redis-server)`);
  return ok;
}
