/**
 * The demo guest's entry on Node (a worker_threads worker): the Node entry installs the
 * platform, then the shared guest program runs. The browser's entry is web/demo-guest.js.
 */
import { joinBus } from '../index.js';
import { runDemoGuest } from './demo-guest.js';

runDemoGuest(await joinBus());
