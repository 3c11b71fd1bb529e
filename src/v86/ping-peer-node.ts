/**
 * The ping peer's entry on Node (a worker_threads worker): the Node entry installs the
 * platform, then the shared program runs. The browser's entry is web/v86-peer.js.
 */
import { joinBus } from '../index.js';
import { runPingPeer } from './ping-peer.js';

runPingPeer(await joinBus());
