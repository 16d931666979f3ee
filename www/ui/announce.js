// The canvas in words: a polite live region that tells screen-reader users what matters as
// the run goes on — a node crashed or came back, the network split or healed, a link was
// cut, a checker was violated — and a short summary of the cluster that the canvas names
// as its description.
//
// Invariants: the region is throttled — at most one announcement per `THROTTLE_MS` of wall
// time, the news gathered in between joined into one sentence of at most `MAX_ITEMS`
// items — so a busy run never floods a screen reader. A new run is observed silently (its
// first state is not news). Text is set with `textContent` only.
import { DROP_NAMES } from '../constants.js';

/** Shortest wall time between two announcements, ms. */
export const THROTTLE_MS = 2000;
/** Most items in one announcement; the rest are counted ("and 3 more"). */
const MAX_ITEMS = 4;
/** Most node ids named in one item ("nodes 1, 2, 3 and 40 more crashed"). */
const MAX_IDS = 5;
/** Wall time between two looks at the checkers, ms (they cost a call into the engine). */
const CHECKS_EVERY_MS = 250;

export class Announcer {
  /** `region`: the live region; `summary`: the element describing the canvas. */
  constructor(region, summary) {
    this.region = region;
    this.summary = summary;
    this.sim = null;
    this.queue = [];
    this.lastSaid = -Infinity;
    this.timer = null;
    this.checksAt = -Infinity;
    this.lastSay = null;
    this.checksLater = null;
  }

  /** Compares the run's state with the last look and queues what changed. Call it after
   * each frame; a different `sim` (a new run) is taken in silently. */
  observe(sim, cols) {
    const state = readState(cols);
    if (sim !== this.sim) {
      this.sim = sim;
      this.state = state;
      this.violated = new Map();
      this.checksAt = -Infinity;
      this.observeChecks(true);
      this.describe(state);
      return;
    }
    const news = diffState(this.state, state);
    this.state = state;
    this.observeChecks(false, news);
    if (news.length) this.describe(state);
    this.tell(news);
  }

  tell(news) {
    if (!news.length) return;
    this.queue.push(...news);
    this.flushSoon();
  }

  /** Notes checkers that broke or hold again. At most one look per CHECKS_EVERY_MS; a look
   * skipped for that is taken later, so the last state of a burst of frames is seen. */
  observeChecks(quiet, news = []) {
    const now = performance.now();
    if (!quiet && now - this.checksAt < CHECKS_EVERY_MS) {
      if (this.checksLater === null) {
        const sim = this.sim;
        this.checksLater = setTimeout(() => {
          this.checksLater = null;
          // Another run since, or this run's engine trapped (the trap banner says so).
          if (sim !== this.sim || sim.engine?.dead) return;
          const later = [];
          this.observeChecks(false, later);
          this.tell(later);
        }, CHECKS_EVERY_MS);
      }
      return;
    }
    this.checksAt = now;
    const checks = this.sim.checks?.() ?? [];
    for (const c of checks) {
      const was = this.violated.get(c.id);
      if (!c.holds && was === undefined) {
        this.violated.set(c.id, c.violated_since_ms);
        if (!quiet) news.push(`checker violated: ${c.name}`);
      } else if (c.holds && was !== undefined) {
        this.violated.delete(c.id);
        if (!quiet) news.push(`${c.name} holds again`);
      }
    }
  }

  /** Says `text` at once (user feedback, e.g. which node the keyboard picked): the one
   * exception to the throttle, since the user asked. It replaces an earlier feedback still
   * waiting, so holding an arrow key says only where it stopped. */
  say(text) {
    const pending = this.queue.indexOf(this.lastSay);
    if (pending >= 0) this.queue.splice(pending, 1);
    this.lastSay = text;
    this.queue.push(text);
    this.flushSoon(true);
  }

  flushSoon(urgent = false) {
    if (this.timer !== null) {
      if (!urgent) return;
      clearTimeout(this.timer);
    }
    const wait = urgent ? 150 : Math.max(0, this.lastSaid + THROTTLE_MS - performance.now());
    this.timer = setTimeout(() => this.flush(), wait);
  }

  flush() {
    this.timer = null;
    if (!this.queue.length) return;
    const items = this.queue.slice(0, MAX_ITEMS);
    const more = this.queue.length - items.length;
    this.queue = [];
    const text = items.join('; ') + (more > 0 ? `; and ${more} more changes` : '');
    this.region.textContent = capitalise(`${text}.`);
    this.lastSaid = performance.now();
  }

  /** The canvas's description: how many nodes are up, crashed and paused, and the network. */
  describe(s) {
    if (!this.summary) return;
    const parts = [`${s.up} of ${s.nodes} nodes up`];
    if (s.crashed.length) parts.push(`${s.crashed.length} crashed (${ids(s.crashed)})`);
    if (s.paused.length) parts.push(`${s.paused.length} paused (${ids(s.paused)})`);
    if (s.leaders.length) parts.push(`leader${s.leaders.length > 1 ? 's' : ''} ${ids(s.leaders)}${s.leaders.length > 1 ? ' — split brain' : ''}`);
    if (s.groups > 1) parts.push(`network split into ${s.groups} groups`);
    if (s.cut > 0) parts.push(`${s.cut} links cut`);
    this.summary.textContent = `${parts.join('; ')}.`;
  }
}

/** What the announcer compares between frames, read from the render columns. */
function readState(cols) {
  const n = cols.nodes;
  const s = { nodes: n, up: 0, crashed: [], paused: [], leaders: [], groups: 1, cut: 0, status: new Uint8Array(n) };
  const groups = new Set();
  for (let i = 0; i < n; i++) {
    const status = cols.nodeStatus[i];
    s.status[i] = status;
    if (status === 0) s.up++;
    else if (status === 1) s.crashed.push(i);
    else if (status === 2) s.paused.push(i);
    if (cols.nodeRole?.[i] === 3 && status !== 1) s.leaders.push(i);
    groups.add(cols.nodeGroup[i]);
  }
  s.groups = groups.size;
  // Blocked by a cut or a partial partition; a whole partition is told by its groups.
  if (cols.links > 0) for (let i = 0; i < cols.linkBlocked.length; i++) if (cols.linkBlocked[i] && cols.linkBlocked[i] !== DROP_NAMES.indexOf('partition')) s.cut++;
  return s;
}

/** The changes from `a` to `b` worth saying, as short phrases. */
function diffState(a, b) {
  if (a.nodes !== b.nodes) return [];
  const crashed = [], back = [], paused = [];
  for (let i = 0; i < b.nodes; i++) {
    if (a.status[i] === b.status[i]) continue;
    if (b.status[i] === 1) crashed.push(i);
    else if (b.status[i] === 2) paused.push(i);
    else if (a.status[i] === 1) back.push(i);
  }
  const news = [];
  if (crashed.length) news.push(`${nodes(crashed)} crashed`);
  if (back.length) news.push(`${nodes(back)} restarted`);
  if (paused.length) news.push(`${nodes(paused)} paused`);
  if (b.groups > 1 && a.groups <= 1) news.push(`partition began: the network split into ${b.groups} groups`);
  else if (b.groups > 1 && b.groups !== a.groups) news.push(`the network is now split into ${b.groups} groups`);
  else if (b.groups <= 1 && a.groups > 1) news.push('partition healed');
  if (b.cut > 0 && a.cut === 0) news.push(`${b.cut} links cut`);
  else if (b.cut === 0 && a.cut > 0) news.push('cut links restored');
  if (b.leaders.length > 1 && a.leaders.length <= 1) news.push(`split brain: ${b.leaders.length} leaders (${ids(b.leaders)})`);
  else if (b.leaders.length === 1 && a.leaders.join() !== b.leaders.join()) news.push(`node ${b.leaders[0]} is leader`);
  return news;
}

function ids(list) {
  const shown = list.slice(0, MAX_IDS).join(', ');
  return list.length > MAX_IDS ? `${shown} and ${list.length - MAX_IDS} more` : shown;
}

function nodes(list) {
  return `${list.length === 1 ? 'node' : 'nodes'} ${ids(list)}`;
}

function capitalise(text) {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
