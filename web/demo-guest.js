// The demo guest as a module Web Worker: the browser entry installs the Web Worker
// platform, then the same guest program the Node topology runs in worker_threads.
import { joinBus } from './dist/src/browser.js';
import { runDemoGuest } from './dist/src/demo/demo-guest.js';

runDemoGuest(await joinBus());
