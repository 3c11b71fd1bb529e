/**
 * vbus in a browser: the same public API as `index.ts`, with guests as module Web
 * Workers. Nothing reachable from this file may import a Node module or a bare package
 * name: a page loads the compiled dist/ files as native ES modules, unbundled
 * (test/browser-imports.test.ts walks the graph). Node-only pieces live behind
 * `platform/node.ts`, which only `index.ts` imports.
 */
import { installPlatform } from './platform/index.js';
import { browserPlatform } from './platform/browser.js';

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
export * from './transport/index.js';

installPlatform(browserPlatform);
