/**
 * The two libraries that read a topology file: `yaml` (parse, with line numbers) and
 * `ajv` (the JSON Schema). The topology code takes them as a parameter instead of
 * importing them, so that it reaches no bare package name: on Node this module is
 * imported as it is (node_modules resolves the names); for a page, the build bundles
 * this module alone with esbuild into `libs.browser.js`, which the page imports and
 * hands over (test/browser-imports.test.ts walks that graph).
 */
import { LineCounter, isMap, isPair, isScalar, isSeq, parseDocument } from 'yaml';
import { Ajv } from 'ajv';

export interface TopologyLibs {
  parseDocument: typeof parseDocument;
  LineCounter: typeof LineCounter;
  isMap: typeof isMap;
  isPair: typeof isPair;
  isScalar: typeof isScalar;
  isSeq: typeof isSeq;
  Ajv: typeof Ajv;
}

export const topologyLibs: TopologyLibs = { parseDocument, LineCounter, isMap, isPair, isScalar, isSeq, Ajv };
