// The ping peer as a module Web Worker: a vbus guest answering ARP and ICMP echo.
import { joinBus } from './dist/src/browser.js';
import { runPingPeer } from './dist/src/v86/ping-peer.js';

runPingPeer(await joinBus());
