/**
 * vbus: the public API. See README.md for the concepts and a walk through the data path.
 */
export * from './errors.js';
export * from './core/index.js';
export * from './host/index.js';
export * from './admin/index.js';
