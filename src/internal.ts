/**
 * Everything inside vbus, for the project's own tests, benchmarks and tools: the public
 * API (`index.ts`, which also installs the Node platform) plus the internals it keeps
 * out (wire offsets, the connector's slot server and decode tables, queue layouts, the
 * backend protocol, platform installers, …). Not in package.json's `exports`: nothing
 * a user imports can depend on these, so they may change without notice.
 */
export * from './index.js';
export * from './errors.js';
export * from './core/index.js';
export * from './connector/index.js';
export * from './guest/index.js';
export * from './host/index.js';
export * from './admin/index.js';
export * from './platform/index.js';
export * from './devices/index.js';
export * from './state/index.js';
export * from './record/index.js';
export * from './snapshot/index.js';
export * from './migrate/index.js';
export * from './transport/index.js';
