// Panels that remember being folded: a <details> whose open state is kept in localStorage
// under a key, so a learner who folds the scenario's explanation finds it folded on the
// next visit. Storage that is unavailable (private mode, blocked) just means no memory.

/** Restores `details`' saved state, then saves it on every toggle — and when the page
 * goes away, since a 'toggle' event is queued and a reload can come before it runs. */
export function rememberFold(details, key) {
  const saved = read(key);
  if (saved === 'open' || saved === 'closed') details.open = saved === 'open';
  const save = () => write(key, details.open ? 'open' : 'closed');
  details.addEventListener('toggle', save);
  window.addEventListener('pagehide', save);
}

function read(key) {
  try {
    return window.localStorage.getItem(key);
  } catch {
    return null;
  }
}

function write(key, value) {
  try {
    window.localStorage.setItem(key, value);
  } catch {
    // No storage: the panel still folds, it just will not remember.
  }
}
