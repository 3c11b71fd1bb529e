// Which bus transport this page uses, and why. Shared memory needs a cross-origin
// isolated page: the server's COOP/COEP headers make it so, or, in the static build
// (npm run build:static), the coi-serviceworker shim, which re-serves the page with those
// headers from a service worker and reloads it once. Where neither works (service workers
// blocked, an insecure origin), the static build falls back to the message transport.
// `?transport=message` asks for the message transport on any page.

/** How long to give the shim's service worker to take over (then it reloads the page). */
const SERVICE_WORKER_WAIT_MS = 4000;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** True on a page of the static build (scripts/build-static.mjs marks it). */
export function isStaticBuild() {
  return document.querySelector('meta[name="vbus-build"][content="static"]') !== null;
}

/**
 * Resolves with `{ transport, isolation }`: transport 'shared' or 'message', or null
 * when the page cannot run (not isolated and not allowed to fall back); isolation
 * 'headers', 'service-worker' or 'none'.
 */
export async function choosePageTransport() {
  const asked = new URLSearchParams(location.search).get('transport');
  const controlled = Boolean(navigator.serviceWorker?.controller);
  const isolation = crossOriginIsolated ? (controlled ? 'service-worker' : 'headers') : 'none';
  if (asked === 'message') return { transport: 'message', isolation };
  if (crossOriginIsolated) return { transport: 'shared', isolation };
  if (!isStaticBuild()) return { transport: null, isolation };
  if (window.isSecureContext && navigator.serviceWorker && !controlled) {
    // The shim registered its worker; once active it reloads this page (isolated then).
    const active = await Promise.race([navigator.serviceWorker.ready.then(() => true, () => false), sleep(SERVICE_WORKER_WAIT_MS).then(() => false)]);
    if (active) await sleep(SERVICE_WORKER_WAIT_MS); // the reload is on its way
  }
  return { transport: 'message', isolation: 'none' };
}

/** One sentence for the status box. */
export function describeTransport({ transport, isolation }) {
  if (transport === 'shared' && isolation === 'service-worker') {
    return 'Shared memory: this page is cross-origin isolated by a service worker (coi-serviceworker) that adds the COOP/COEP headers its host does not send.';
  }
  if (transport === 'shared') return 'Shared memory: this page is cross-origin isolated by its server\'s COOP/COEP headers.';
  return 'Message transport: no SharedArrayBuffer here (the page is not cross-origin isolated), so each thread keeps its own copy of every bus memory and changes travel in batched postMessage.';
}
