// The two entry points offer the same API: the browser entry must not silently lack
// something added to the Node entry (or the other way round).
import { describe, expect, it } from 'vitest';

describe('entry points', () => {
  it('dist/src/index.js (Node) and dist/src/browser.js export the same names; each installs its platform', async () => {
    const node = await import('../dist/src/index.js');
    expect(node.platform().name).toBe('node');
    const browser = await import('../dist/src/browser.js');
    // Loading the browser entry installs the browser platform (the last entry loaded wins).
    expect(browser.platform().name).toBe('browser');
    expect(Object.keys(browser).sort()).toEqual(Object.keys(node).sort());
    expect(Object.keys(node)).toContain('spawnWorker');
    expect(Object.keys(node)).toContain('BusMemory');
  });
});
