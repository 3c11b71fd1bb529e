// The echo guest as a module Web Worker: the same code the Node tests run in a
// worker_threads worker (src/demo/echo-guest.ts), reached through the browser entry.
import { workerContext } from './dist/src/browser.js';
import { runEchoGuest } from './dist/src/demo/echo-guest.js';

runEchoGuest(await workerContext());
