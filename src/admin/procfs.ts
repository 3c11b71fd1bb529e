/**
 * `/proc/ID/vbus`: membership, as the original's per-process attribute. Reading gives
 * the member's bus; writing a bus name to a member's file is accepted only for the
 * bus it is on (a member is on one bus at a time); writing `0` makes it leave (with
 * its children, see {@link Member}). Writing a bus name to the file of an id that is
 * not a member joins that id (handled by the view, since `/proc/ID` does not exist
 * until then).
 */
import { vbusError } from '../errors.js';
import type { VbusHost } from '../host/host.js';
import type { Member } from '../host/member.js';
import { DirNode, staticDir } from './nodes.js';

/** Text written to `/proc/ID/vbus` to leave. */
export const LEAVE_TEXT = '0';

export function procfsRoot(host: VbusHost): DirNode {
  return {
    kind: 'dir',
    list: () => host.members().map((m) => String(m.id)),
    lookup: (name) => {
      const m = /^[1-9]\d*$/.test(name) ? host.member(Number(name)) : undefined;
      return m ? memberDir(host, m) : undefined;
    },
  };
}

function memberDir(host: VbusHost, m: Member): DirNode {
  return staticDir({
    vbus: () => ({
      kind: 'file',
      read: () => m.bus?.name ?? LEAVE_TEXT,
      write: (text: string) => {
        if (text === LEAVE_TEXT) { host.leave(m); return; }
        if (m.bus?.name === text) return; // already there: nothing to do
        if (!host.bus(text)) throw vbusError('ENOENT', `No such file or directory: no bus ${text}`, { bus: text });
        throw vbusError('EBUSY', `member ${m.id} is on bus ${m.bus?.name}; a member belongs to one bus at a time, write ${LEAVE_TEXT} first`, { id: m.id, bus: text });
      },
    }),
  });
}

/** Joins member `id` to bus `text` (the write to a `/proc/ID/vbus` that does not exist yet). */
export function joinByProcWrite(host: VbusHost, id: number, text: string): void {
  if (text === LEAVE_TEXT) throw vbusError('ENOENT', `No such file or directory: ${id} is not a member`, { id });
  if (!host.bus(text)) throw vbusError('ENOENT', `No such file or directory: no bus ${text}`, { bus: text });
  host.join(text, { id });
}
