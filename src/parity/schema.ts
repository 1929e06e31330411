// The shadow and comparison settings of a route: defined with the config's one schema.
export * from '../config/schema-parity.js';
