// The status box both pages share: page state for tests (body[data-state]) and an error
// box that can list what is missing (e.g. the COOP/COEP headers).
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
