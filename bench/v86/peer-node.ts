/** The v86 bench's ping peer on Node: the runtime's ping-peer guest program. */
import { joinBus } from '../../src/index.js';
import { runPingPeer } from '../../src/v86/ping-peer.js';

runPingPeer(await joinBus());
