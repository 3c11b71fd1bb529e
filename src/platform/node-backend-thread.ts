/**
 * The entry of a backend pool thread on Node: installs the Node platform in this
 * thread (its module graph is its own) and runs the pool thread's loop.
 */
import { installPlatform } from './index.js';
import { nodePlatform } from './node.js';
import { runPoolThread } from '../connector/backend/pool-thread.js';

installPlatform(nodePlatform);
void runPoolThread();
