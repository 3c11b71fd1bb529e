export * from './venet/index.js';
export * from './vdisk/index.js';
export * from './vconsole/index.js';
export * from './vrng/index.js';
// venet's and vdisk's ABIs both call their info-record size INFO_BYTES: an explicit
// export settles the ambiguous `export *` (the bare name stays venet's).
export { INFO_BYTES } from './venet/index.js';
export { INFO_BYTES as VDISK_INFO_BYTES } from './vdisk/index.js';
