/**
 * Serves one decoded control request against a host: the path-view operations exactly
 * as `adminView(host)` performs them (same results, same errors), plus the runtime's own
 * (spawn, modprobe/rmmod, grant, stats, stop). A request from a delegated client is
 * first judged by its {@link BusScope}; a refusal runs nothing.
 */
import { isAbsolute } from 'node:path';
import { saveSnapshotFile } from '../snapshot/node-file.js';
import { migrate } from '../migrate/source.js';
import { pathToFileURL } from 'node:url';
import { vbusError } from '../errors.js';
import type { VbusHost } from '../host/host.js';
import type { DeviceClassSpec } from '../host/device-class.js';
import type { BusScope } from './scope.js';
import { CONTROL_PROTOCOL_VERSION, type ControlOps, type GrantResult, type HelloResult } from './protocol.js';
import { adminView } from '../admin/index.js';

/** What the handlers need from the runtime beyond the host. */
export interface HandlerContext {
  host: VbusHost;
  name: string;
  startedAt: string;
  /** Classes `modprobe` may register, by name. */
  classes: ReadonlyMap<string, DeviceClassSpec>;
  grant(bus: string): Promise<GrantResult>;
  stats?(scope: BusScope | null): unknown;
  stop(): void;
}

function str(args: Record<string, unknown>, key: string): string {
  const v = args[key];
  if (typeof v !== 'string') throw vbusError('EINVAL', `argument ${key} must be text, not ${v === undefined ? 'missing' : typeof v}`, { key });
  return v;
}

const ownerOnly = (op: string, scope: BusScope): never => {
  throw vbusError('EACCES', `${op}: Permission denied: this client holds a capability for bus ${scope.bus} only`, { op, bus: scope.bus });
};

export function handle(ctx: HandlerContext, op: string, args: Record<string, unknown>, scope: BusScope | null): unknown {
  const a = adminView(ctx.host);
  switch (op as keyof ControlOps) {
    case 'hello': {
      const r: HelloResult = {
        v: CONTROL_PROTOCOL_VERSION, name: ctx.name, pid: process.pid, uid: process.getuid?.() ?? -1, startedAt: ctx.startedAt,
        buses: scope ? (ctx.host.bus(scope.bus) ? [scope.bus] : []) : ctx.host.buses().map((b) => b.name),
        scope: scope ? 'bus' : 'owner', ...(scope ? { bus: scope.bus } : {}),
      };
      return r;
    }
    case 'ls': {
      const path = str(args, 'path');
      if (scope?.isInstancesDir(path)) return a.readdir(path).filter((n) => n === scope.bus);
      scope?.check(path, 'read');
      return a.readdir(path);
    }
    case 'tree': { const path = str(args, 'path'); scope?.check(path, 'read'); return a.tree(path); }
    case 'cat': { const path = str(args, 'path'); scope?.check(path, 'read'); return a.read(path); }
    case 'readlink': { const path = str(args, 'path'); scope?.check(path, 'read', false); return a.readlink(path); }
    case 'write': {
      const path = str(args, 'path'); const value = str(args, 'value');
      scope?.check(path, 'write');
      a.write(path, value);
      return null;
    }
    // Creating objects is the owner's; removing one names it, so another bus is ENOENT first.
    case 'mkdir': { const path = str(args, 'path'); if (scope) ownerOnly(op, scope); a.mkdir(path); return null; }
    case 'rmdir': { const path = str(args, 'path'); scope?.check(path, 'write', false); a.rmdir(path); return null; }
    case 'ln': {
      const target = str(args, 'target'); const link = str(args, 'link');
      if (scope) { scope.check(link, 'write', false); }
      a.symlink(target, link);
      return null;
    }
    case 'rm': { const path = str(args, 'path'); scope?.check(path, 'unlink', false); a.unlink(path); return null; }
    case 'modprobe': {
      if (scope) ownerOnly(op, scope);
      const name = str(args, 'name');
      const spec = ctx.classes.get(name);
      if (!spec) throw vbusError('ENOENT', `modprobe ${name}: no such class module (available: ${[...ctx.classes.keys()].join(', ')})`, { name });
      ctx.host.registerClass(spec);
      return null;
    }
    case 'rmmod': { if (scope) ownerOnly(op, scope); ctx.host.unregisterClass(str(args, 'name')); return null; }
    case 'spawn': {
      // A guest is code that runs with the runtime owner's rights: starting one is the owner's.
      if (scope) ownerOnly(op, scope);
      const bus = str(args, 'bus'); const script = str(args, 'script');
      if (!isAbsolute(script)) throw vbusError('EINVAL', `spawn: script path ${script} must be absolute (the client resolves it)`, { script });
      if (!ctx.host.bus(bus)) throw vbusError('ENOENT', `spawn: no bus ${bus}`, { bus });
      const name = args['name'] === undefined ? undefined : str(args, 'name');
      const g = ctx.host.spawnGuest(bus, pathToFileURL(script), { ...(args['data'] !== undefined ? { data: args['data'] } : {}), ...(name ? { name } : {}) });
      return { member: g.memberId, bus };
    }
    case 'grant': {
      if (scope) ownerOnly(op, scope);
      return ctx.grant(str(args, 'bus'));
    }
    case 'stats': {
      if (!ctx.stats) throw vbusError('ENOTSUP', 'this runtime publishes no stats region', {});
      return ctx.stats(scope);
    }
    case 'stop': { if (scope) ownerOnly(op, scope); ctx.stop(); return null; }
    case 'save': {
      if (scope) ownerOnly(op, scope);
      const file = str(args, 'file');
      const buses = args['buses'];
      if (!Array.isArray(buses) || buses.length === 0 || !buses.every((b) => typeof b === 'string')) throw vbusError('EINVAL', 'save: buses must be a non-empty list of bus names', {});
      if (!isAbsolute(file)) throw vbusError('EINVAL', `save: file path ${file} must be absolute (the client resolves it)`, { file });
      // Within the client's default 5 s request deadline: guests get 3 s to answer each step.
      return saveSnapshotFile(ctx.host, buses as string[], file, { timeoutMs: 3000 }).then((bytes) => ({ file, bytes, buses }));
    }
    case 'migrate': {
      if (scope) ownerOnly(op, scope);
      const to = str(args, 'to');
      const buses = args['buses'];
      if (!Array.isArray(buses) || buses.length === 0 || !buses.every((b) => typeof b === 'string')) throw vbusError('EINVAL', 'migrate: buses must be a non-empty list of bus names', {});
      if (!isAbsolute(to)) throw vbusError('EINVAL', `migrate: target socket ${to} must be an absolute path (the client resolves a runtime name)`, { to });
      // Within the client's default 5 s request deadline: 2 s per guest answer and per target answer.
      return migrate(ctx.host, buses as string[], { path: to }, { timeoutMs: 2000, replyTimeoutMs: 2000 }).then((r) => ({
        buses: r.buses, target: r.target, downtimeMs: r.downtimeMs, rounds: r.rounds, precopyBytes: r.precopyBytes, stopBytes: r.stopBytes, stateBytes: r.stateBytes, totalMs: r.totalMs,
      }));
    }
    default:
      throw vbusError('ENOSYS', `unknown operation ${JSON.stringify(op)}`, { op });
  }
}
