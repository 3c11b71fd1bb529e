export * from './vdisk/index.js';
