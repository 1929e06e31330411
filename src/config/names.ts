// The two backends by name: a leaf with no dependencies, so that the data plane (a worker) can
// use them without loading the config schema (TypeBox).
export type BackendName = 'legacy' | 'candidate';
export const BACKENDS: readonly BackendName[] = ['legacy', 'candidate'];
