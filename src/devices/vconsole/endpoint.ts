/**
 * Host endpoints of a console: where the guest's output goes and where its input comes
 * from. The model (model.ts) talks to an endpoint through {@link ConsoleEndpoint} and
 * receives from it through {@link EndpointSink}; both are platform-neutral.
 *
 * Which endpoints exist depends on the platform, so openers are installed by the entry
 * point, not imported here: the browser has only `memory` (built in below); the Node
 * entry installs `stdio`, `pipe:`, `tcp:` and `pty` from src/platform/node-vconsole.ts.
 * This keeps node:fs / node:net unreachable from src/browser.ts.
 */
import { vbusError } from '../../errors.js';

/** What an endpoint calls into (implemented by the model). */
export interface EndpointSink {
  /**
   * Bytes arrived from the endpoint. The sink owns `chunk` from now on. The sink may
   * call `pause()` on the endpoint from here when it cannot take more.
   */
  input(chunk: Uint8Array): void;
  /** The endpoint's input ended (peer closed, end of file). */
  inputEnd(): void;
  /** The endpoint can take output again after `write` returned false. */
  drained(): void;
  /** The endpoint failed; it delivers nothing more. */
  failed(err: Error): void;
}

/** An open endpoint, as the model sees it. */
export interface ConsoleEndpoint {
  /** The attribute value it was opened from, e.g. `tcp:127.0.0.1:4000`. */
  readonly spec: string;
  /**
   * Takes guest output. Returns false when the endpoint buffers too much: the model
   * stops draining the guest's ring until `drained()`. The chunk is always accepted.
   */
  write(chunk: Uint8Array): boolean;
  /** Stop calling `input` (flow control: the guest's input ring is full). */
  pause(): void;
  /** Resume calling `input`. */
  resume(): void;
  /** Releases the endpoint (idempotent). Buffered output is flushed where possible. */
  close(): void;
}

/** Opens an endpoint for an attribute value; undefined when the opener does not know the kind. */
export type EndpointOpener = (spec: string, sink: EndpointSink) => ConsoleEndpoint | undefined;

/** Checks an attribute value before anything is opened; throws EINVAL / ENOTSUP. Returns the normalised value. */
export type EndpointChecker = (spec: string) => string | undefined;

interface Installed { open: EndpointOpener; check: EndpointChecker; kinds: string[] }

let platformEndpoints: Installed | undefined;

/**
 * Installs the platform's endpoints (the Node entry point does; a browser installs
 * none). `kinds` name them for error messages.
 */
export function installConsoleEndpoints(open: EndpointOpener, check: EndpointChecker, kinds: string[]): void {
  platformEndpoints = { open, check, kinds: [...kinds] };
}

/** Endpoint kinds available here, `memory` first. */
export function consoleEndpointKinds(): string[] {
  return ['memory', ...(platformEndpoints?.kinds ?? [])];
}

/** Validates and normalises an `endpoint` attribute value. Throws EINVAL or ENOTSUP naming it. */
export function checkEndpointSpec(spec: string): string {
  const s = spec.trim();
  if (s === 'memory') return s;
  const checked = platformEndpoints?.check(s);
  if (checked !== undefined) return checked;
  const kind = s.split(':')[0]!;
  if (['stdio', 'pipe', 'tcp', 'pty'].includes(kind)) {
    throw vbusError('ENOTSUP', `console endpoint "${s}" needs a platform with ${kind} support (Node); here only ${consoleEndpointKinds().join(', ')} exist`, { endpoint: s });
  }
  throw vbusError('EINVAL', `console endpoint "${s}" is not one of ${consoleEndpointKinds().join(', ')} (forms: memory, stdio, pipe:<path>, tcp:<host>:<port>, pty[:<link>])`, { endpoint: s });
}

/** Opens a checked spec: `memory` here, the rest through the platform's opener. */
export function openEndpoint(spec: string, sink: EndpointSink, memory: () => ConsoleEndpoint): ConsoleEndpoint {
  if (spec === 'memory') return memory();
  const ep = platformEndpoints?.open(spec, sink);
  if (!ep) throw vbusError('ENOTSUP', `console endpoint "${spec}" is not available on this platform`, { endpoint: spec });
  return ep;
}
