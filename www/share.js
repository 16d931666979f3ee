// The share URL: `#s=` + a versioned, compressed link made by the engine (src/share.rs), so
// the page and `faultline run --scenario-url` read exactly the same format. This module
// owns where links live in the URL and what the page says about a bad one.
import { decodeLink } from './sim.js';

/** The fragment (without '#') for a run. */
export function fragmentFor(sim) {
  return `s=${sim.shareLink()}`;
}

/** Reads `location.hash`: null when there is no shared run, else { scenario, tMs };
 * throws an Error saying what is wrong with a mangled link. */
export function decodeShare(hash) {
  const fragment = hash.startsWith('#') ? hash.slice(1) : hash;
  if (!fragment.startsWith('s=')) return null;
  const decoded = decodeLink(fragment);
  return { scenario: decoded.scenario, tMs: decoded.t_ms };
}
