export * from './venet/index.js';
