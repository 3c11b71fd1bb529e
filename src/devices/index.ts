export * from './venet/index.js';
export * from './vdisk/index.js';
export * from './vconsole/index.js';
export * from './vrng/index.js';
