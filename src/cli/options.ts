/** Option value parsers for commander: each names the option and the rule in its error. */
import { InvalidArgumentError } from 'commander';

export function seconds(max: number): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!(n > 0 && n <= max)) throw new InvalidArgumentError(`must be a number of seconds above 0 and at most ${max}`);
    return n;
  };
}

export function port(v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || n > 65535) throw new InvalidArgumentError('must be an integer from 0 to 65535');
  return n;
}

export function positiveInt(max: number): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!/^\d+$/.test(v) || n < 1 || n > max) throw new InvalidArgumentError(`must be an integer from 1 to ${max}`);
    return n;
  };
}

export function json(v: string): unknown {
  try { return JSON.parse(v); } catch (e) { throw new InvalidArgumentError(`must be JSON (${(e as Error).message})`); }
}
