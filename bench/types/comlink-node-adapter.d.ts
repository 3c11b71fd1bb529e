// comlink ships this adapter as .mjs with a .d.ts beside it that TypeScript's NodeNext
// resolution does not pick up for the .mjs path; this declares the one default export.
declare module 'comlink/dist/esm/node-adapter.mjs' {
  import type { Endpoint } from 'comlink';
  const nodeEndpoint: (nep: unknown) => Endpoint;
  export default nodeEndpoint;
}
