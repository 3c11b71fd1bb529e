// The two entry points offer the same API: the browser entry must not silently lack
// something added to the Node entry (or the other way round). The internal entry (the
// project's own tests and tools) offers that API and more.
import { describe, expect, it } from 'vitest';

describe('entry points', () => {
  it('dist/src/index.js (Node) and dist/src/browser.js export the same names; each installs its platform', async () => {
    const node = await import('../dist/src/index.js');
    const internal = await import('../dist/src/internal.js');
    expect(internal.platform().name).toBe('node');
    const browser = await import('../dist/src/browser.js');
    // Loading the browser entry installs the browser platform (the last entry loaded wins).
    expect(internal.platform().name).toBe('browser');
    expect(Object.keys(browser).sort()).toEqual(Object.keys(node).sort());
    expect(Object.keys(node)).toContain('spawnWorker');
    expect(Object.keys(node)).toContain('BusMemory');
  });

  it('the public entry keeps internals out; internal.js has every public name, bound to the same objects', async () => {
    const node: Record<string, unknown> = await import('../dist/src/index.js');
    const internal: Record<string, unknown> = await import('../dist/src/internal.js');
    for (const name of ['wire', 'BusEndpoint', 'DecodeTables', 'SlotServer', 'ServeGroup', 'BackendProxy', 'installPlatform', 'installBackendRunner', 'setBlockingReceive', 'REQ_OFF_OP', 'CPL_BYTES', 'VDISK_Q_REQUEST', 'ringRecordBytes', 'platform']) {
      expect(node[name], name).toBeUndefined();
      expect(internal[name], name).toBeDefined();
    }
    for (const name of Object.keys(node)) expect(internal[name], name).toBe(node[name]);
  });
});
