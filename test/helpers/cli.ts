/**
 * Runs `vbus` (dist/src/cli/main.js) as a user would: a child process, with its own
 * environment (a private runtime directory per test file), returning status and output.
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '..', '..');
export const VBUS = resolve(ROOT, 'dist/src/cli/main.js');

export interface CliResult { status: number | null; stdout: string; stderr: string }

export function vbus(args: string[], env: NodeJS.ProcessEnv = {}, opts: { cwd?: string; input?: string } = {}): CliResult {
  const r = spawnSync(process.execPath, [VBUS, ...args], {
    cwd: opts.cwd ?? ROOT, encoding: 'utf8', timeout: 60_000, env: { ...process.env, ...env }, ...(opts.input !== undefined ? { input: opts.input } : {}),
  });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** `vbus ARGS` without blocking: many can run at once. */
export function vbusAsync(args: string[], env: NodeJS.ProcessEnv = {}, cmd: string[] = [process.execPath, VBUS]): Promise<CliResult> {
  return new Promise((res, rej) => {
    const child = spawn(cmd[0]!, [...cmd.slice(1), ...args], { cwd: ROOT, env: { ...process.env, ...env } });
    let stdout = '', stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => { stdout += c; });
    child.stderr.setEncoding('utf8').on('data', (c: string) => { stderr += c; });
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.once('error', rej);
    child.once('close', (status) => { clearTimeout(timer); res({ status, stdout, stderr }); });
  });
}

/** Runs `jobs` with at most `limit` at a time; results in order. */
export async function inBatches<T>(jobs: Array<() => Promise<T>>, limit = 4): Promise<T[]> {
  const out: T[] = new Array(jobs.length);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, jobs.length) }, async () => {
    while (next < jobs.length) { const i = next++; out[i] = await jobs[i]!(); }
  }));
  return out;
}

/** `vbus run FILE --json` in the background; resolves once it printed its ready line. */
export async function startRuntime(file: string, env: NodeJS.ProcessEnv, extra: string[] = []): Promise<{ child: ChildProcessWithoutNullStreams; ready: { name: string; socket: string; pid: number }; output(): string; stop(): Promise<number | null> }> {
  const child = spawn(process.execPath, [VBUS, '--json', 'run', file, ...extra], { cwd: ROOT, env: { ...process.env, ...env } });
  let out = '';
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (c: string) => { out += c; });
  const ready = await new Promise<{ name: string; socket: string; pid: number }>((res, rej) => {
    child.stdout.on('data', (c: string) => {
      out += c;
      const line = out.split('\n').find((l) => l.startsWith('{"ready"'));
      if (line) res(JSON.parse(line));
    });
    child.once('exit', (code) => rej(new Error(`vbus run exited with ${code} before it was ready:\n${out}`)));
  });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return {
    child, ready, output: () => out,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}
