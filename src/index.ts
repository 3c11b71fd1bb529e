/**
 * vbus on Node: the public API (the names are listed once, in `public-api.ts`). See
 * README.md for the concepts and a walk through the data path. Browsers import
 * `browser.ts` instead (same API, Web Workers; test/platform-entries.test.ts compares
 * the two). The project's own tests and tools reach internals through `internal.ts`.
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

export * from './public-api.js';

installPlatform(nodePlatform);
setBlockingReceive(nodeBlockingReceive);
installBackendRunner(createNodeBackendRunner());
installTapTransport(createNodeTapTransport);
installVdiskFiles(nodeVdiskFiles);
installConsoleEndpoints(openNodeEndpoint, checkNodeEndpoint, NODE_CONSOLE_KINDS);
