// The v86 guest as a module Web Worker: the browser entry installs the Web Worker
// platform, then the same v86 guest program Node runs in worker_threads.
import { joinBus } from './dist/src/browser.js';
import { runV86Guest } from './dist/src/v86/guest.js';

await runV86Guest(await joinBus());
