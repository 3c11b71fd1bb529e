/**
 * Node only: the control socket, for programs that run a host and want `vbus` to reach
 * it (`ControlServer.start(host, { name })`), and for clients (`ControlClient`).
 * Import `vbus/control` (package.json `exports`); the browser entry never reaches this.
 */
export { ControlServer, type ControlServerOptions } from './server.js';
export { ControlClient, listRuntimes, type ConnectOptions, type RuntimeEntry } from './client.js';
export { runtimeDir, grantDir, socketPath, ensurePrivateDir } from './runtime-dir.js';
export * from './protocol.js';
