/**
 * Progress for long runs, on stderr so stdout stays the table: a cli-progress bar on a
 * terminal, otherwise one line every 10% (logs and CI stay readable).
 */
import cliProgress from 'cli-progress';

export interface Progress {
  update(done: number, total: number, label: string): void;
  stop(): void;
}

export function createProgress(enabled: boolean): Progress {
  if (!enabled) return { update() {}, stop() {} };
  if (process.stderr.isTTY) {
    const bar = new cliProgress.SingleBar({
      stream: process.stderr,
      format: '{bar} {value}/{total} {label}',
      hideCursor: true,
      clearOnComplete: true,
    }, cliProgress.Presets.shades_classic);
    let started = false;
    return {
      update(done, total, label) {
        if (!started) { bar.start(total, 0, { label }); started = true; }
        bar.setTotal(total);
        bar.update(done, { label });
      },
      stop() { if (started) bar.stop(); },
    };
  }
  let lastDecile = -1;
  return {
    update(done, total, label) {
      const decile = Math.floor((10 * done) / total);
      if (decile !== lastDecile) {
        lastDecile = decile;
        process.stderr.write(`[bench] ${done}/${total} ${label}\n`);
      }
    },
    stop() {},
  };
}
