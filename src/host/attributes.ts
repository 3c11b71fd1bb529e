/**
 * Device attributes: the named text values a device class declares (the files
 * `client_mac`, `enabled`, ... beside a device in the admin view). Values are text, as
 * in sysfs; a class gives each writable attribute a parser that validates and
 * normalises what an administrator writes.
 */
import { VbusError, vbusError } from '../errors.js';
import type { Device } from './device.js';
import { checkName } from './names.js';

/** One attribute a device class declares. */
export interface AttributeSpec {
  /** File name in the admin view; must not be `class`, `interfaces` or `type`. */
  name: string;
  /** `ro`: readable only (writes fail with EACCES); `rw`: readable and writable. */
  mode: 'ro' | 'rw';
  /** Value at device creation (default: empty). Not passed through `parse`. */
  initial?: string;
  /**
   * Validates and normalises a written value; returns the value to store. Throw a
   * `VbusError` with code EINVAL to refuse it (any other exception is turned into
   * EINVAL). Without `parse`, any text is accepted as is.
   */
  parse?(text: string, device: Device): string;
  /** Computes the value on every read (counters, state); the stored value is then unused. */
  show?(device: Device): string;
}

/** Names the admin view uses for its own entries beside a device's attributes. */
export const RESERVED_ATTRIBUTE_NAMES: ReadonlySet<string> = new Set(['class', 'interfaces', 'type']);

/** Validates a class's attribute list; returns a name-sorted frozen copy. Throws EINVAL. */
export function checkAttributeSpecs(className: string, specs: readonly AttributeSpec[] | undefined): readonly AttributeSpec[] {
  const seen = new Set<string>();
  for (const spec of specs ?? []) {
    checkName(spec?.name, `class ${className}: attribute`);
    if (RESERVED_ATTRIBUTE_NAMES.has(spec.name)) {
      throw vbusError('EINVAL', `class ${className}: attribute name "${spec.name}" is reserved by the admin view`, { className, attribute: spec.name });
    }
    if (seen.has(spec.name)) {
      throw vbusError('EINVAL', `class ${className}: attribute "${spec.name}" is declared twice`, { className, attribute: spec.name });
    }
    if (spec.mode !== 'ro' && spec.mode !== 'rw') {
      throw vbusError('EINVAL', `class ${className}: attribute "${spec.name}" mode ${JSON.stringify(spec.mode)} must be 'ro' or 'rw'`, { className, attribute: spec.name });
    }
    seen.add(spec.name);
  }
  return Object.freeze([...(specs ?? [])].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)));
}

/** Parses `text` for attribute `spec` of `device`; always throws a VbusError (EINVAL) on refusal. */
export function parseAttribute(spec: AttributeSpec, text: string, device: Device): string {
  if (!spec.parse) return text;
  let value: unknown;
  try {
    value = spec.parse(text, device);
  } catch (err) {
    if (err instanceof VbusError) throw err;
    throw vbusError('EINVAL', `attribute ${spec.name} of device ${device.name}: ${JSON.stringify(text)} is not valid (${(err as Error)?.message ?? String(err)})`, { device: device.name, attribute: spec.name, value: text });
  }
  if (typeof value !== 'string') {
    throw vbusError('EINVAL', `attribute ${spec.name} of device ${device.name}: parser returned ${typeof value}, not text`, { device: device.name, attribute: spec.name });
  }
  return value;
}
