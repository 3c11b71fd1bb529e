// The demo's static server: what it serves, with which headers, and what it refuses.
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer } from '../dist/src/demo/serve.js';

interface Reply { status: number; headers: Record<string, string | string[] | undefined>; body: string }

/** A raw GET: the path goes on the wire as written (fetch would normalise `..`). */
function get(port: number, path: string, method = 'GET'): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => { body += c; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('demo server, isolated (default)', () => {
  let server: Awaited<ReturnType<typeof startServer>>;
  beforeAll(async () => { server = await startServer({ port: 0 }); });
  afterAll(async () => { await server.close(); });

  it('serves web/ at / and dist/ at /dist/ with COOP/COEP and the right MIME types', async () => {
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/`);
    const cases: [string, string, RegExp][] = [
      ['/', 'text/html; charset=utf-8', /<script type="module" src="\.\/demo\.js">/],
      ['/echo.html', 'text/html; charset=utf-8', /<script type="module" src="\.\/app\.js">/],
      ['/demo.js', 'text/javascript; charset=utf-8', /from '\.\/dist\/src\/demo\/lab\.js'/],
      ['/app.js', 'text/javascript; charset=utf-8', /from '\.\/dist\/src\/browser\.js'/],
      ['/style.css', 'text/css; charset=utf-8', /font/],
      ['/dist/src/browser.js', 'text/javascript; charset=utf-8', /installPlatform\(browserPlatform\)/],
    ];
    for (const [path, type, body] of cases) {
      const r = await get(server.port, path);
      expect(r.status, path).toBe(200);
      expect(r.headers['content-type'], path).toBe(type);
      expect(r.headers['cross-origin-opener-policy'], path).toBe('same-origin');
      expect(r.headers['cross-origin-embedder-policy'], path).toBe('require-corp');
      expect(r.body, path).toMatch(body);
    }
  });

  it('answers 404 (with the headers) for a missing file, and HEAD with no body', async () => {
    const miss = await get(server.port, '/dist/src/nope.js');
    expect(miss.status).toBe(404);
    expect(miss.body).toContain('/dist/src/nope.js');
    expect(miss.body).toContain('npm run build');
    expect(miss.headers['cross-origin-embedder-policy']).toBe('require-corp');
    const head = await get(server.port, '/app.js', 'HEAD');
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
  });

  it('refuses paths that climb out of web/ or dist/, and methods other than GET/HEAD', async () => {
    // URL parsing already folds `..` and `%2e%2e` back inside the served tree: not found.
    for (const path of ['/../package.json', '/dist/../package.json', '/%2e%2e/package.json', '/dist/%2e%2e/%2e%2e/etc/passwd']) {
      const r = await get(server.port, path);
      expect(r.status, path).toBe(404);
      expect(r.body, path).not.toContain('"name": "vbus"');
    }
    // An encoded slash survives URL parsing and decodes to a climb: refused.
    for (const path of ['/..%2fpackage.json', '/dist/..%2f..%2fpackage.json', '/%2e%2e%2f%2e%2e%2fetc/passwd']) {
      const r = await get(server.port, path);
      expect(r.status, path).toBe(403);
      expect(r.body, path).not.toContain('"name": "vbus"');
    }
    expect((await get(server.port, '/app.js', 'POST')).status).toBe(405);
  });
});

describe('demo server, not isolated', () => {
  it('omits both isolation headers when isolate is false', async () => {
    const server = await startServer({ port: 0, isolate: false });
    try {
      const r = await get(server.port, '/');
      expect(r.status).toBe(200);
      expect(r.headers['cross-origin-opener-policy']).toBeUndefined();
      expect(r.headers['cross-origin-embedder-policy']).toBeUndefined();
    } finally {
      await server.close();
    }
  });

  it('rejects a bad port with EINVAL and a taken port with EBUSY', async () => {
    expect(() => startServer({ port: 70000 })).toThrow(/port 70000/);
    const a = await startServer({ port: 0 });
    try {
      await expect(startServer({ port: a.port })).rejects.toMatchObject({ code: 'EBUSY' });
    } finally {
      await a.close();
    }
  });
});
