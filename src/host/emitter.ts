/**
 * A tiny typed event emitter that runs the same in Node and in browsers (no
 * `node:events`). Listeners run synchronously, in registration order, after the
 * state change they report has been committed.
 *
 * A listener must not throw. If one does, the remaining listeners still run, the
 * operation that emitted is NOT undone (its state change already happened), and the
 * error is reported asynchronously (`reportError` where the platform has it, else an
 * uncaught exception from a microtask) so that it is not silently lost.
 */

/** Maps each event name to its listener signature. */
export type EventMap = { [event: string]: (...args: never[]) => void };

export class Emitter<E extends EventMap> {
  private readonly listeners = new Map<keyof E, Array<E[keyof E]>>();

  /** Adds a listener; returns a function that removes it. */
  on<K extends keyof E>(event: K, listener: E[K]): () => void {
    const list = this.listeners.get(event);
    if (list) list.push(listener);
    else this.listeners.set(event, [listener]);
    return () => this.off(event, listener);
  }

  /** Adds a listener that removes itself after its first call. */
  once<K extends keyof E>(event: K, listener: E[K]): () => void {
    const wrapper = ((...args: Parameters<E[K]>) => {
      off();
      (listener as (...a: Parameters<E[K]>) => void)(...args);
    }) as unknown as E[K];
    const off = this.on(event, wrapper);
    return off;
  }

  /** Removes one registration of `listener` for `event` (no-op if absent). */
  off<K extends keyof E>(event: K, listener: E[K]): void {
    const list = this.listeners.get(event);
    if (!list) return;
    const i = list.indexOf(listener);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.listeners.delete(event);
  }

  /** Number of listeners for `event`. */
  listenerCount(event: keyof E): number {
    return this.listeners.get(event)?.length ?? 0;
  }

  /** Removes every listener (used by `release()`). */
  clear(): void {
    this.listeners.clear();
  }

  /** Calls each listener of `event` with `args`. Used by the object that owns the emitter. */
  emit<K extends keyof E>(event: K, ...args: Parameters<E[K]>): void {
    const list = this.listeners.get(event);
    if (!list) return;
    // Copy: a listener may remove itself (once) or others while we iterate.
    for (const fn of list.slice()) {
      try {
        (fn as (...a: Parameters<E[K]>) => void)(...args);
      } catch (err) {
        reportListenerError(err);
      }
    }
  }
}

/** Reports an error thrown by a listener without undoing the emitting operation. */
export function reportListenerError(err: unknown): void {
  const report = (globalThis as { reportError?: (e: unknown) => void }).reportError;
  if (typeof report === 'function') report(err);
  else queueMicrotask(() => { throw err; });
}
