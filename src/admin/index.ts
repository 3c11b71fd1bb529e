export { AdminView, adminView } from './path-view.js';
export { renderTree } from './tree.js';
export { splitPath, joinPath, compareNames } from './paths.js';
export { ADMIN_LAYOUT_VERSION } from './sysfs.js';
export { LEAVE_TEXT } from './procfs.js';
export type { Node, DirNode, FileNode, LinkNode } from './nodes.js';
