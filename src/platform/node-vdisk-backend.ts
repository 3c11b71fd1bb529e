/**
 * The module a backend worker imports for a vdisk in backend placement: it installs the
 * Node file stores in that worker (its module graph is its own), then builds the same
 * model the host thread would.
 */
import { installVdiskFiles } from '../devices/vdisk/store-registry.js';
import { createVdiskModel, type VdiskModel, type VdiskModelInit } from '../devices/vdisk/model.js';
import { nodeVdiskFiles } from './node-vdisk-file.js';

export function createVdiskBackendModel(init: VdiskModelInit): VdiskModel {
  installVdiskFiles(nodeVdiskFiles);
  return createVdiskModel(init);
}
