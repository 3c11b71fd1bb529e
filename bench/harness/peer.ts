/**
 * A benchmark peer: one worker thread that answers commands in order. The main thread
 * may block (Atomics.wait) between sending a command and reading its reply; replies
 * queue up until it returns to its event loop.
 */
import { Worker, type TransferListItem } from 'node:worker_threads';

export class Peer<Cmd, Reply> {
  private readonly worker: Worker;
  private readonly queue: Array<{ resolve: (r: Reply) => void; reject: (e: Error) => void }> = [];
  private dead: Error | null = null;

  constructor(url: URL) {
    this.worker = new Worker(url);
    this.worker.on('message', (r: Reply) => this.queue.shift()?.resolve(r));
    const fail = (e: Error): void => {
      this.dead = e;
      for (const q of this.queue.splice(0)) q.reject(e);
    };
    this.worker.on('error', fail);
    this.worker.on('exit', (code) => fail(new Error(`benchmark peer exited with code ${code}`)));
  }

  /** Sends a command; resolves with its reply. */
  call(cmd: Cmd, transfer: TransferListItem[] = []): Promise<Reply> {
    if (this.dead) return Promise.reject(this.dead);
    return new Promise((resolve, reject) => {
      this.queue.push({ resolve, reject });
      this.worker.postMessage(cmd, transfer);
    });
  }

  async close(): Promise<void> {
    this.worker.removeAllListeners('exit');
    await this.worker.terminate();
  }
}

/**
 * Blocks the calling thread until `i32[idx]` equals `want`, or throws after `timeoutMs`
 * (a dead peer must not hang the benchmark).
 */
export function waitForWord(i32: Int32Array, idx: number, want: number, timeoutMs = 60_000, what = 'peer'): void {
  const deadline = Date.now() + timeoutMs;
  let v: number;
  while ((v = Atomics.load(i32, idx)) !== want) { // pairs with the peer's store + notify
    const left = deadline - Date.now();
    if (left <= 0) throw new Error(`timed out after ${timeoutMs} ms waiting for the ${what}`);
    Atomics.wait(i32, idx, v, Math.min(left, 1000));
  }
}
