/**
 * The demo (src/demo, web/, examples/) lives in the repository, not in the published
 * package: `vbus demo` and `vbus serve` say so (ENOTSUP) instead of failing to import.
 */
import { vbusError } from '../errors.js';

export async function importDemo<T>(load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (e) {
    if ((e as NodeJS.ErrnoException)?.code === 'ERR_MODULE_NOT_FOUND') {
      throw vbusError('ENOTSUP', 'the demo is not part of the installed package: run it from a clone of the repository (npm start)', {});
    }
    throw e;
  }
}
