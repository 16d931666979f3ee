// The share URL: `#s=` + a versioned, compressed link made by the engine (src/share.rs), so
// the page and `faultline run --scenario-url` read exactly the same format. This module
// owns where links live in the URL, which engine replays a link (the one of the epoch it
// was made with, when this site ships it) and what the page says about a bad one.
import { decodeLink, engineFor, currentEngine, epochLabel, messageOf } from './sim.js';

/** The fragment (without '#') for a run. */
export function fragmentFor(sim) {
  return `s=${sim.shareLink()}`;
}

/** Reads `location.hash`: null when it holds no shared run, else what `openLink` gives. */
export async function openShare(hash) {
  const fragment = hash.startsWith('#') ? hash.slice(1) : hash;
  return fragment.startsWith('s=') ? openLink(fragment) : null;
}

/** Opens link text with the engine of the epoch it was made with. When this site ships that
 * engine: { scenario, tMs, epoch, engine, note } — the note is quiet ("made with engine e1;
 * replayed with e1"). When not: { scenario, tMs, epoch, engine: null, warning, offer }, where
 * `offer` is the current engine and the warning says plainly that it may replay differently.
 * Throws an Error saying what is wrong with a mangled link. */
export async function openLink(text) {
  const decoded = decodeLink(text); // the current decoder reads every link format
  const made = epochLabel(decoded.epoch);
  let engine = null;
  let trouble = '';
  try {
    engine = await engineFor(decoded.epoch);
  } catch (e) {
    trouble = ` (its engine did not load: ${messageOf(e)})`;
  }
  const base = { tMs: decoded.t_ms, epoch: decoded.epoch };
  if (!engine) {
    const now = epochLabel(currentEngine().epoch);
    const warning = `This link was made with engine ${made}, which this site does not ship${trouble}. `
      + `The current engine, ${now}, may replay it differently from the run that was shared.`;
    return { ...base, scenario: decoded.scenario, engine: null, warning, offer: currentEngine() };
  }
  // An earlier engine reads its own link, so the scenario is exactly what it made.
  const own = engine === currentEngine() ? decoded : decodeLink(text, engine);
  const note = `made with engine ${made}; replayed with ${epochLabel(engine.epoch)}`;
  return { ...base, scenario: own.scenario, tMs: own.t_ms, engine, note };
}
