/**
 * Listener bookkeeping shared by both PlatformWorker implementations: message, error
 * and exit listeners, and a once-only exit with its promise. Environment-neutral.
 */
export class WorkerEvents {
  private readonly message: ((m: unknown) => void)[] = [];
  private readonly error: ((e: Error) => void)[] = [];
  private readonly exit: ((code: number) => void)[] = [];
  private exitCode: number | undefined;
  private resolveExit!: (code: number) => void;
  readonly exited: Promise<number>;

  constructor() {
    this.exited = new Promise<number>((resolve) => { this.resolveExit = resolve; });
  }

  get hasExited(): boolean { return this.exitCode !== undefined; }

  onMessage(fn: (m: unknown) => void): void { this.message.push(fn); }
  onError(fn: (e: Error) => void): void { this.error.push(fn); }
  onExit(fn: (code: number) => void): void {
    if (this.exitCode !== undefined) queueMicrotask(() => fn(this.exitCode!));
    else this.exit.push(fn);
  }

  emitMessage(m: unknown): void { for (const fn of this.message) fn(m); }
  emitError(e: Error): void { for (const fn of this.error) fn(e); }
  /** Records the exit once; later calls are ignored. */
  emitExit(code: number): void {
    if (this.exitCode !== undefined) return;
    this.exitCode = code;
    for (const fn of this.exit) fn(code);
    this.resolveExit(code);
  }
}
