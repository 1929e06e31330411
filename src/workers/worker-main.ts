// The entry of a cluster worker process (the primary forks this file, not the CLI): it imports
// the data plane only, so a worker never loads the CLI's commands or the control plane.
import { runWorker } from './worker.js';

await runWorker();
