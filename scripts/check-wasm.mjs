// Build check for the core module. Several instances (host and every guest) run over
// one shared memory, so the module must not carry anything that is applied per
// instance: data segments (rewritten at every instantiation), a start function, or
// imports beyond the memory. Fails the build with a message naming what it found.
// The message build (`{ shared: false }`) must import a private memory instead: it runs
// where SharedArrayBuffer is not allowed, one instance per thread over its own copy.
import { readFileSync } from 'node:fs';

const SECTION_NAMES = { 0: 'custom', 1: 'type', 2: 'import', 3: 'function', 5: 'memory', 7: 'export', 8: 'start', 10: 'code', 11: 'data', 12: 'datacount' };

function readLeb(bytes, at) {
  let result = 0, shift = 0, b;
  do { b = bytes[at++]; result |= (b & 0x7f) << shift; shift += 7; } while (b & 0x80);
  return [result >>> 0, at];
}

export function checkCoreWasm(path, { shared = true } = {}) {
  const bytes = readFileSync(path);
  const problems = [];
  let at = 8; // magic + version
  while (at < bytes.length) {
    const id = bytes[at++];
    let size;
    [size, at] = readLeb(bytes, at);
    if (id === 8) problems.push('a start section (module-level initialisers run per instance)');
    if (id === 11) {
      const [count] = readLeb(bytes, at);
      if (count > 0) problems.push(`${count} data segment(s) (rewritten at every instantiation over the shared memory)`);
    }
    at += size;
  }
  const mod = new WebAssembly.Module(bytes);
  for (const imp of WebAssembly.Module.imports(mod)) {
    if (!(imp.module === 'env' && imp.name === 'memory' && imp.kind === 'memory')) {
      problems.push(`an import ${imp.module}.${imp.name} (${imp.kind}); only env.memory is allowed`);
    }
  }
  // The memory import's flags byte says whether it is shared (bit 1); find it after the name.
  const sharedFlag = memoryImportShared(bytes);
  if (sharedFlag !== shared) problems.push(`a ${sharedFlag ? 'shared' : 'private'} memory import (expected ${shared ? 'shared' : 'private'})`);
  if (problems.length) {
    throw new Error(`${path} is not safe to share between instances: it has ${problems.join('; ')}`);
  }
  return { bytes: bytes.length, exports: WebAssembly.Module.exports(mod).map((e) => e.name) };
}

/** Whether the module's imported memory is declared shared (limits flag bit 1). */
function memoryImportShared(bytes) {
  let at = 8;
  while (at < bytes.length) {
    const id = bytes[at++];
    let size;
    [size, at] = readLeb(bytes, at);
    if (id === 2) {
      let p = at, count, len;
      [count, p] = readLeb(bytes, p);
      for (let i = 0; i < count; i++) {
        [len, p] = readLeb(bytes, p); p += len; // module name
        [len, p] = readLeb(bytes, p); p += len; // field name
        const kind = bytes[p++];
        if (kind === 2) return (bytes[p] & 2) !== 0;
        if (kind === 0) { [, p] = readLeb(bytes, p); } // function: type index
        else if (kind === 1) { p += 1; const f = bytes[p++]; [, p] = readLeb(bytes, p); if (f & 1) [, p] = readLeb(bytes, p); } // table
        else if (kind === 3) { p += 2; } // global: type + mutability
      }
    }
    at += size;
  }
  return false;
}

export { SECTION_NAMES };
