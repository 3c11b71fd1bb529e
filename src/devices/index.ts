export * from './venet/index.js';
export * from './vdisk/index.js';
