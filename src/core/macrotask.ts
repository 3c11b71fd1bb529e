/**
 * Yields one full turn of the event loop (not just the microtask queue), on Node and in
 * browsers: setImmediate where it exists, otherwise a MessageChannel message (which,
 * unlike setTimeout(0), is not clamped to 4 ms when nested).
 */
let channel: MessageChannel | null = null;
const waiting: Array<() => void> = [];

export function macrotask(): Promise<void> {
  const g = globalThis as { setImmediate?: (fn: () => void) => unknown };
  if (typeof g.setImmediate === 'function') return new Promise((r) => { g.setImmediate!(r); });
  if (!channel) {
    channel = new MessageChannel();
    channel.port1.onmessage = () => { waiting.shift()?.(); };
  }
  return new Promise((r) => { waiting.push(r); channel!.port2.postMessage(0); });
}
