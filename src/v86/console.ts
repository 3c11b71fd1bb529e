/**
 * The host's side of a v86 VM's serial console, over a vconsole device with the
 * `memory` endpoint: collects what the VM prints, waits for text to appear, types
 * commands. Platform-neutral (the Node tests, the demo and the page use it alike).
 */
import { vbusError } from '../errors.js';
import type { ConsoleModel } from '../devices/vconsole/model.js';

/** The shell prompt of the image's busybox `sh` as root (busybox may follow it with a cursor query, ESC [6n). */
export const V86_PROMPT = /(?:^|\n)\/ # /;

export class V86Console {
  private text = '';
  private seen = 0;
  /** Commands run so far (numbers each one's end marker). */
  private runs = 0;
  private readonly waiters = new Set<() => void>();
  private readonly stop: () => void;

  constructor(private readonly model: ConsoleModel) {
    const dec = new TextDecoder();
    this.stop = model.onOutput((bytes) => {
      this.text += dec.decode(bytes, { stream: true });
      for (const w of this.waiters) w();
    });
  }

  /** Everything the VM printed so far. */
  get output(): string { return this.text; }

  /**
   * Resolves with the first match of `re` in output printed after the previous
   * `waitFor` match (so a repeated prompt is not matched twice); ETIMEDOUT after
   * `timeoutMs`, naming what was printed last.
   */
  waitFor(re: RegExp, timeoutMs: number): Promise<RegExpMatchArray> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const rest = this.text.slice(this.seen);
        const m = rest.match(re);
        if (!m) return;
        this.seen += (m.index ?? 0) + m[0].length;
        done();
        resolve(m);
      };
      const timer = setTimeout(() => {
        done();
        reject(vbusError('ETIMEDOUT', `v86 console did not print ${re} within ${timeoutMs} ms; last output: ${JSON.stringify(this.text.slice(-400))}`, { timeoutMs }));
      }, timeoutMs);
      const done = (): void => { clearTimeout(timer); this.waiters.delete(check); };
      this.waiters.add(check);
      check();
    });
  }

  /** Types `line` and a newline on the VM's serial port. */
  type(line: string): Promise<void> { return this.model.hostWrite(`${line}\n`); }

  /**
   * Types `cmd` followed by an end marker, then waits for the marker's output and the
   * prompt after it; resolves with everything printed meanwhile (the echo included).
   * The marker is typed with an empty quote pair inside it, so only the shell's output
   * of it matches, never the echo of the typed line: a tty may echo what was typed
   * before the shell has printed its prompt, and matching the command's own echo then
   * returned before the command ran.
   */
  async run(cmd: string, timeoutMs: number): Promise<string> {
    const n = ++this.runs;
    const start = this.text.length;
    await this.type(`${cmd}; echo vbus-run-""${n}-done`);
    await this.waitFor(new RegExp(`vbus-run-${n}-done\\r?\\n[\\s\\S]*?${V86_PROMPT.source}`, 'm'), timeoutMs);
    return this.text.slice(start);
  }

  close(): void { this.stop(); for (const w of this.waiters) this.waiters.delete(w); }
}
