/**
 * The shapes of a topology file (`vbus run FILE`): what a file declares, after schema
 * validation, and what it becomes once its class modules and guest scripts are
 * resolved. The schema itself is in schema.ts; these types and that schema describe
 * the same document and are kept side by side on purpose.
 */
import type { DeviceClassSpec } from '../host/device-class.js';

/** Version of the topology format this runtime reads (`version:` in the file). */
export const TOPOLOGY_VERSION = 1;

/** A class to register: a built-in one by name, or an export of a user module. */
export interface ClassDecl {
  builtin?: string;
  /** Path of an ES module, relative to the topology file. */
  module?: string;
  /** Export of `module` holding a DeviceClassSpec (default: `default`). */
  export?: string;
}

export interface BusDecl {
  name: string;
  /** Bytes of bus memory: a number, or text with a K/M/G suffix (`4MiB`). Default 4 MiB. */
  memory?: number | string;
}

export interface DeviceDecl {
  name: string;
  type: string;
  placement?: 'host' | 'backend';
  /** Attribute values, written in the order given after the type is set. */
  attributes?: Record<string, string | number | boolean>;
}

export interface LinkDecl {
  bus: string;
  device: string;
}

export interface GuestDecl {
  bus: string;
  /** Path of the guest's ES module, relative to the topology file. */
  script: string;
  /** Guest name; with `count` > 1 the guests are NAME-1, NAME-2, ... */
  name?: string;
  /** Passed to every guest as `guest.data`. */
  data?: unknown;
  count?: number;
}

/** A topology file as written (after the schema check). */
export interface TopologyDoc {
  version: number;
  name?: string;
  classes?: ClassDecl[];
  buses?: BusDecl[];
  devices?: DeviceDecl[];
  links?: LinkDecl[];
  guests?: GuestDecl[];
}

/** One guest to start (counts expanded). */
export interface GuestPlan {
  bus: string;
  name: string;
  url: URL;
  data: unknown;
}

/** A validated topology, ready to build: classes loaded, sizes parsed, paths resolved. */
export interface Topology {
  /** The file it came from (for messages). */
  file: string;
  name: string;
  classes: DeviceClassSpec[];
  buses: Array<{ name: string; memoryBytes: number }>;
  devices: Array<{ name: string; type: string; placement: 'host' | 'backend'; attributes: Array<[string, string]> }>;
  links: LinkDecl[];
  guests: GuestPlan[];
}

/** One thing wrong with a topology file. */
export interface TopologyIssue {
  /** JSON pointer into the document (`/devices/2/type`), `` for the whole document. */
  path: string;
  /** The rule broken: a schema keyword (`required`, `type`, ...) or a named check (`known-class`, ...). */
  rule: string;
  message: string;
  /** 1-based line and column in the file, when known. */
  line?: number;
  col?: number;
}
