/**
 * The demo's static server (Node only): serves the repository's `web/` folder at `/`
 * and its `dist/` build at `/dist/`, with the two headers that make a page
 * cross-origin isolated (so the browser allows SharedArrayBuffer). `isolate: false`
 * leaves them out, to show what a page sees without them.
 *
 * Run it as `vbus serve [--port 8080] [--host H] [--no-isolate]` (src/cli/commands/serve.ts).
 */
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { dirname, extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { vbusError } from '../errors.js';
import { ISOLATION_HEADERS } from '../platform/shared-memory.js';

export interface ServerOptions {
  /** TCP port; 0 (the default) picks a free one. */
  port?: number;
  /** Interface to listen on. Default 127.0.0.1 (the demo is not meant for a network). */
  host?: string;
  /** Send Cross-Origin-Opener-Policy / Cross-Origin-Embedder-Policy. Default true. */
  isolate?: boolean;
  /** Repository root holding `web/` and `dist/`. Default: found from this file's location. */
  root?: string;
}

export interface RunningServer {
  /** Base URL, ending in `/` (e.g. `http://127.0.0.1:41234/`). */
  url: string;
  port: number;
  /** Stops listening and closes open connections. */
  close(): Promise<void>;
}

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.ts': 'text/plain; charset=utf-8',
};

/** This file is dist/src/demo/serve.js once built; the repository is three levels up. */
function defaultRoot(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
}

/**
 * URL prefixes served from other folders than `web/`: the build, and for the v86 page
 * (web/v86.html) the v86 package's module and wasm and the guest image that
 * scripts/build-v86-image.sh builds.
 */
const MOUNTS: ReadonlyArray<readonly [string, string]> = [
  ['/dist', 'dist'],
  // The topology files the demo page builds from (the same ones `vbus run` reads).
  ['/examples/topologies', join('examples', 'topologies')],
  ['/v86/lib', join('node_modules', 'v86', 'build')],
  ['/v86/image', join('build', 'v86-image')],
];

/**
 * The file the server sends for `urlPath`: under `root/dist/` for `/dist/...`, else under
 * `root/web/` (a path ending in `/` means its `index.html`). Null if the path escapes
 * both folders. Exported so the import-graph test resolves URLs exactly as served.
 */
export function servedFile(root: string, urlPath: string): string | null {
  let path: string;
  try { path = decodeURIComponent(urlPath); } catch { return null; }
  if (path.includes('\0')) return null;
  const mount = MOUNTS.find(([prefix]) => path === prefix || path.startsWith(prefix + '/'));
  const [base, rest] = mount ? [join(root, mount[1]), path.slice(mount[0].length)] : [join(root, 'web'), path];
  const file = resolve(base, '.' + (rest.endsWith('/') || rest === '' ? rest + '/index.html' : rest));
  return file === base || file.startsWith(base + sep) ? file : null;
}

/** Starts the server; resolves once it listens. */
export function startServer(opts: ServerOptions = {}): Promise<RunningServer> {
  const port = opts.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw vbusError('EINVAL', `server port ${port} must be an integer between 0 and 65535`, { port });
  }
  const host = opts.host ?? '127.0.0.1';
  const isolate = opts.isolate ?? true;
  const root = opts.root ?? defaultRoot();

  const send = (res: ServerResponse, status: number, body: string | Buffer, type: string): void => {
    const headers: Record<string, string> = {
      'Content-Type': type,
      'Content-Length': String(Buffer.byteLength(body)),
      // The build changes under a running server while developing; never serve stale code.
      'Cache-Control': 'no-store',
    };
    if (isolate) Object.assign(headers, ISOLATION_HEADERS);
    res.writeHead(status, headers);
    res.end(body);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      send(res, 405, 'method not allowed\n', MIME['.txt']!);
      return;
    }
    const urlPath = new URL(req.url ?? '/', 'http://localhost').pathname;
    const file = servedFile(root, urlPath);
    if (!file) { send(res, 403, `forbidden: ${urlPath}\n`, MIME['.txt']!); return; }
    try {
      const st = await stat(file);
      if (!st.isFile()) throw vbusError('EISDIR', `${file} is not a file`);
      const body = await readFile(file);
      send(res, 200, req.method === 'HEAD' ? Buffer.alloc(0) : body, MIME[extname(file)] ?? 'application/octet-stream');
    } catch {
      const hint = urlPath.startsWith('/dist/') ? ' (run `npm run build` first)' : '';
      send(res, 404, `not found: ${urlPath}${hint}\n`, MIME['.txt']!);
    }
  };

  const server = createServer((req, res) => { void handle(req, res); });
  return new Promise((resolveStart, rejectStart) => {
    server.once('error', (e: NodeJS.ErrnoException) => {
      rejectStart(vbusError(e.code === 'EADDRINUSE' ? 'EBUSY' : 'EIO', `demo server cannot listen on ${host}:${port}: ${e.message}`, { host, port }));
    });
    server.listen(port, host, () => {
      const addr = server.address();
      const actual = typeof addr === 'object' && addr ? addr.port : port;
      resolveStart({
        url: `http://${host}:${actual}/`,
        port: actual,
        close: () => new Promise<void>((done) => {
          server.close(() => done());
          server.closeAllConnections();
        }),
      });
    });
  });
}
