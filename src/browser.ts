/**
 * vbus in a browser: the same public API as `index.ts`, with guests as module Web
 * Workers. Nothing reachable from this file may import a Node module or a bare package
 * name: a page loads the compiled dist/ files as native ES modules, unbundled
 * (test/browser-imports.test.ts walks the graph). Node-only pieces live behind
 * `platform/node.ts`, which only `index.ts` imports.
 */
import { installPlatform } from './platform/index.js';
import { browserPlatform } from './platform/browser.js';

export * from './public-api.js';

installPlatform(browserPlatform);
