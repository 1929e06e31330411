// The guard's figures as every replica and worker publishes them, and their merge, live in
// guard/wire.ts (the guard reads and judges them; the fleet and the worker pool carry them).
export * from '../guard/wire.js';
