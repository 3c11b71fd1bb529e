/**
 * The v86 guest's entry on Node (a worker_threads worker): the Node entry installs the
 * platform, then the shared program runs. The browser's entry is web/v86-guest.js.
 */
import { joinBus } from '../index.js';
import { runV86Guest } from './guest.js';

await runV86Guest(await joinBus());
