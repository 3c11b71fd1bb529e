// Real peers for venet-tap tests: socat (Debian's, installed by scripts/setup.sh), the
// Linux TAP driver, network namespaces and iputils' ping. Everything the tests start is
// tracked here and stopped by its own pid; network names carry the run's pid so two
// runs never share one. Traffic stays on loopback or inside namespaces a test created.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);

export interface RunResult { code: number; stdout: string; stderr: string }

/** Runs a command (no shell); resolves with its exit code and output, never rejects. */
export async function run(cmd: string, args: string[], timeoutMs = 60_000): Promise<RunResult> {
  try {
    const { stdout, stderr } = await execFileP(cmd, args, { timeout: timeoutMs });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code?: number | string; stdout?: string; stderr?: string; message: string };
    return { code: typeof err.code === 'number' ? err.code : -1, stdout: err.stdout ?? '', stderr: err.stderr ?? err.message };
  }
}

/** A socat process: its stderr so far (run with -d -d), and a way to stop it. */
export interface Socat {
  proc: ChildProcess;
  log(): string;
  /** Resolves when `re` matches the log (returns the match), rejects if socat exits first. */
  waitLog(re: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  exited: Promise<number | null>;
  stop(): Promise<void>;
}

/** Starts `socat -d -d A B` and collects its log. */
export function startSocat(a: string, b: string): Socat {
  const proc = spawn('socat', ['-d', '-d', a, b], { stdio: ['ignore', 'ignore', 'pipe'] });
  let text = '';
  const listeners = new Set<() => void>();
  proc.stderr!.setEncoding('utf8');
  proc.stderr!.on('data', (d: string) => { text += d; for (const l of listeners) l(); });
  const exited = new Promise<number | null>((resolve) => {
    proc.once('exit', (code) => { resolve(code); for (const l of listeners) l(); });
    proc.once('error', () => { resolve(-1); for (const l of listeners) l(); });
  });
  let done = false;
  void exited.then(() => { done = true; });
  return {
    proc,
    log: () => text,
    exited,
    waitLog(re, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          const m = re.exec(text);
          if (m) { cleanup(); resolve(m); } else if (done) { cleanup(); reject(new Error(`socat exited before ${re}: ${text}`)); }
        };
        const t = setTimeout(() => { cleanup(); reject(new Error(`socat did not log ${re} in ${timeoutMs} ms: ${text}`)); }, timeoutMs);
        const cleanup = (): void => { clearTimeout(t); listeners.delete(check); };
        listeners.add(check);
        check();
      });
    },
    async stop() {
      if (!done && proc.pid !== undefined) proc.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      if (!done && proc.pid !== undefined) proc.kill('SIGKILL');
    },
  };
}

/** True if `cmd` runs (exit code 0 for `cmd args`). */
export async function have(cmd: string, args: string[]): Promise<boolean> {
  return (await run(cmd, args, 10_000)).code === 0;
}

/** Polls `fn` until it returns true (counters and links settle asynchronously). */
export async function eventually(fn: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Why this machine cannot give a test a Linux TAP inside a network namespace (null when
 * it can), found by creating and deleting a throwaway namespace and TAP named by `tag`.
 */
export async function tapRefusal(tag: string): Promise<string | null> {
  if (!(await have('ip', ['-V']))) return 'no ip(8) (iproute2)';
  if (!(await have('ping', ['-V']))) return 'no ping (iputils-ping)';
  const ns = `vbus-probe${tag}`;
  const dev = `vbp${tag}`;
  const a = await run('ip', ['netns', 'add', ns]);
  if (a.code !== 0) return `namespaces refused: ${a.stderr.trim()}`;
  try {
    const t = await run('ip', ['tuntap', 'add', 'dev', dev, 'mode', 'tap']);
    if (t.code !== 0) return `TAP creation refused: ${t.stderr.trim()}`;
    await run('ip', ['tuntap', 'del', 'dev', dev, 'mode', 'tap']);
    return null;
  } finally {
    await run('ip', ['netns', 'del', ns]);
  }
}

/** Runs a setup command that must succeed; throws with its stderr otherwise. */
export async function runOk(cmd: string, args: string[]): Promise<void> {
  const r = await run(cmd, args);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
}
