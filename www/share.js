// The share URL: `#s=` + a versioned, compressed link made by the engine (src/share.rs), so
// the page and `faultline run --scenario-url` read exactly the same format. This module
// owns where links live in the URL, which engine replays a link (the one of the epoch it
// was made with, when this site ships it) and what the page says about a bad one.
// A comparison (compare mode) is one link too: `#s=LINK&vs=LINK`, the second run in the
// same F1 format, replayed to the first one's moment.
import { decodeLink, engineFor, currentEngine, epochLabel, messageOf } from './sim.js';

/** The fragment (without '#') for a run, and for the variant it is compared with. */
export function fragmentFor(sim, variant = null) {
  const first = `s=${sim.shareLink()}`;
  return variant ? `${first}&vs=${variant.shareLink()}` : first;
}

/** Reads `location.hash` (or link text): null when it holds no shared run, else what
 * `openLink` gives, with `variant` (a scenario) when the link holds a comparison. */
export async function openShare(hash) {
  const fragment = hash.startsWith('#') ? hash.slice(1) : hash;
  return fragment.startsWith('s=') ? openComparison(fragment) : null;
}

/** Link text that may hold a comparison (`…&vs=F1.…`): the first run as `openLink` gives
 * it, plus `variant`, the second run's scenario (read by the same engine). */
export async function openComparison(text) {
  const [first, ...rest] = text.split('&');
  const vs = rest.find((part) => part.startsWith('vs='));
  const shared = await openLink(first);
  if (vs) {
    const engine = shared.engine ?? shared.offer;
    try {
      shared.variant = decodeLink(vs.slice(3), engine).scenario;
    } catch (e) {
      throw new Error(`the compared run (vs=): ${messageOf(e).replace(/^link: /, '')}`);
    }
  }
  return shared;
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
