// The status box both pages share: page state for tests (body[data-state]) and an error
// box that can list what is missing (e.g. the COOP/COEP headers).
import { checkSharedMemory, ISOLATION_HEADERS } from './dist/src/browser.js';

const $ = (id) => document.getElementById(id);

export function setState(demo, state) {
  demo.state = state;
  document.body.dataset.state = state;
}

export function showError(demo, title, err, list) {
  const box = $('status');
  box.className = 'status error';
  box.replaceChildren();
  const strong = document.createElement('strong');
  strong.textContent = title;
  const p = document.createElement('p');
  p.textContent = err instanceof Error ? err.message : String(err);
  box.append(strong, p);
  if (list) {
    const ul = document.createElement('ul');
    for (const item of list) {
      const li = document.createElement('li');
      const code = document.createElement('code');
      code.textContent = item;
      li.append(code);
      ul.append(li);
    }
    box.append(ul);
  }
  demo.error = p.textContent;
}

/**
 * True if the page may use shared memory; otherwise marks the page 'not-isolated' and
 * shows which response headers are missing.
 */
export function checkIsolation(demo) {
  try {
    checkSharedMemory({ waitAsync: true });
    return true;
  } catch (e) {
    setState(demo, 'not-isolated');
    showError(demo, 'This page is not cross-origin isolated, so the browser withholds shared memory.', e,
      Object.entries(ISOLATION_HEADERS).map(([k, v]) => `${k}: ${v}`));
    return false;
  }
}
