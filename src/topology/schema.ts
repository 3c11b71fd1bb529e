/**
 * The JSON Schema (draft-07, checked with ajv) of a topology file. It covers shapes:
 * keys, types, ranges, name syntax. What needs the whole document or the runtime
 * (unique names, references between sections, known classes and attributes, sizes
 * that fit) is checked after it, in validate.ts.
 */
import { NAME_MAX } from '../host/names.js';
import { TOPOLOGY_VERSION } from './types.js';

/** A bus, device, class or guest name: one path component (see host/names.ts). */
const NAME = { type: 'string', minLength: 1, maxLength: NAME_MAX, pattern: '^(?!\\.{1,2}$)[^/\\s\\x00](?:[^/\\x00]*[^/\\s\\x00])?$' };

/** A byte count: an integer, or digits with an optional K/M/G suffix (binary). */
export const BYTES_PATTERN = '^\\s*\\d+\\s*([kKmMgG](i?[bB])?)?\\s*$';

export const topologySchema = {
  $id: 'https://vbus.invalid/topology-1.json',
  type: 'object',
  additionalProperties: false,
  required: ['version'],
  properties: {
    version: { const: TOPOLOGY_VERSION },
    name: NAME,
    classes: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        properties: { builtin: NAME, module: { type: 'string', minLength: 1 }, export: { type: 'string', minLength: 1 } },
      },
    },
    buses: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name'],
        properties: {
          name: NAME,
          memory: { anyOf: [{ type: 'integer', minimum: 65536, maximum: 1 << 30 }, { type: 'string', pattern: BYTES_PATTERN }] },
        },
      },
    },
    devices: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'type'],
        properties: {
          name: NAME,
          type: NAME,
          placement: { enum: ['host', 'backend'] },
          attributes: { type: 'object', additionalProperties: { type: ['string', 'number', 'boolean'] } },
        },
      },
    },
    links: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['bus', 'device'],
        properties: { bus: NAME, device: NAME },
      },
    },
    guests: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['bus', 'script'],
        properties: {
          bus: NAME,
          script: { type: 'string', minLength: 1 },
          name: NAME,
          data: {},
          count: { type: 'integer', minimum: 1, maximum: 64 },
        },
      },
    },
  },
} as const;
