export * from './vconsole/index.js';
export * from './vrng/index.js';
