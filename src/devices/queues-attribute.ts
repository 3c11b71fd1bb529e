/**
 * The `queues` attribute of the multiqueue classes (venet, vdisk): the most queue pairs
 * a guest may negotiate on one connection. An integer from 1 (the default: no
 * multiqueue) to the class's ABI maximum; it applies to negotiations after the write
 * (connections keep the count they negotiated).
 */
import type { AttributeSpec } from '../host/attributes.js';
import { vbusError } from '../errors.js';

/** Parses a `queues` text: an integer in 1..max, normalised to decimal. Throws EINVAL naming the key. */
export function parseQueues(text: string, max: number): string {
  const t = text.trim();
  const n = /^\d+$/.test(t) ? Number(t) : NaN;
  if (!(n >= 1 && n <= max)) {
    throw vbusError('EINVAL', `queues ${JSON.stringify(text)} must be an integer from 1 to ${max}`, { attribute: 'queues', value: text, max });
  }
  return String(n);
}

/** The attribute spec (rw, initial 1). */
export function queuesAttribute(max: number): AttributeSpec {
  return { name: 'queues', mode: 'rw', initial: '1', parse: (text) => parseQueues(text, max) };
}
