// Preloaded with `--import` (NODE_OPTIONS): every module this process loads through the ESM
// loader is appended, one URL per line, to $CUTOVER_LOADS_DIR/<pid>. For the test that checks
// what a worker carries; node has no API that lists the ES modules a process has loaded.
import { register } from 'node:module';

if (process.env.CUTOVER_LOADS_DIR) {
  register('./record-loads-hooks.mjs', import.meta.url, { data: { file: `${process.env.CUTOVER_LOADS_DIR}/${process.pid}` } });
}
