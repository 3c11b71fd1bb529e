/**
 * Every benchmark `npm run bench -- NAME` can run. To add one (call, venet, vdisk ...),
 * write a module exporting a {@link BenchModule} and add a loader here; loaders are
 * lazy so one bench's imports never slow down another.
 */
import type { BenchModule } from './harness/types.js';

export const registry: Record<string, () => Promise<BenchModule>> = {
  ring: async () => (await import('./ring/index.js')).ringBench,
  call: async () => (await import('./call/index.js')).callBench,
  venet: async () => (await import('./venet/index.js')).venetBench,
  vdisk: async () => (await import('./vdisk/index.js')).vdiskBench,
  vconsole: async () => (await import('./vconsole/index.js')).vconsoleBench,
  path: async () => (await import('./path/index.js')).pathBench,
  v86: async () => (await import('./v86/index.js')).v86Bench,
  replay: async () => (await import('./replay/index.js')).replayBench,
  scale: async () => (await import('./scale/index.js')).scaleBench,
};
