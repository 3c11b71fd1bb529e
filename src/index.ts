/**
 * vbus on Node: the public API. See README.md for the concepts and a walk through the
 * data path. Browsers import `browser.ts` instead (same API, Web Workers); keep the two
 * export lists alike (test/platform-entries.test.ts compares them).
 */
import { installPlatform } from './platform/index.js';
import { nodePlatform } from './platform/node.js';
import { createNodeBackendRunner } from './platform/node-backend.js';
import { installBackendRunner } from './connector/backend/runner.js';
import { createNodeTapTransport } from './platform/node-venet-tap.js';
import { installTapTransport } from './devices/venet/tap-transport.js';
import { nodeVdiskFiles } from './platform/node-vdisk-file.js';
import { installVdiskFiles } from './devices/vdisk/store-registry.js';
import { checkNodeEndpoint, NODE_CONSOLE_KINDS, openNodeEndpoint } from './platform/node-vconsole.js';
import { installConsoleEndpoints } from './devices/vconsole/endpoint.js';
import { nodeBlockingReceive } from './platform/node-blocking.js';
import { setBlockingReceive } from './transport/mirror.js';

export * from './errors.js';
export * from './core/index.js';
export * from './connector/index.js';
export * from './guest/index.js';
export * from './host/index.js';
export * from './admin/index.js';
export * from './platform/index.js';
export * from './devices/index.js';
export * from './state/index.js';
export * from './record/index.js';
export * from './snapshot/index.js';
export * from './migrate/index.js';
export * from './transport/index.js';

installPlatform(nodePlatform);
setBlockingReceive(nodeBlockingReceive);
installBackendRunner(createNodeBackendRunner());
installTapTransport(createNodeTapTransport);
installVdiskFiles(nodeVdiskFiles);
installConsoleEndpoints(openNodeEndpoint, checkNodeEndpoint, NODE_CONSOLE_KINDS);
