// The session: the one place that changes the run — load, reset, seek, step, inject,
// play — and that keeps it alive. It advances the engine only by asking it to run to a
// simulated time (never by wall time or `Math.random`), through the shared player loop
// (player.js) and the sliced long work (travel.js), so nothing blocks the page. It
// remembers the last good moment (the recorded scenario and a time the engine reached),
// so after a trap it can keep a share link to it and restart a fresh engine there. A link
// replays on the engine of the epoch it was made with when the site ships it.
// UI modules call these actions and read `state` (state.js); they never reach each other.
import { EngineDead, Sim, encodeLink, epochLabel, messageOf, onTrap, presetScenario, reloadEngine } from './sim.js';
import { openShare, fragmentFor } from './share.js';
import { SimPair, checkComparable, sideLabels } from './compare.js';
import { Player } from './player.js';
import { Travel } from './travel.js';
import { formatMs } from './format.js';

export const DEFAULT_PRESET = 'heartbeat';

export class Session {
  /** notify: { error, note, hideNote } (ui/banners.js); progress: ui/progress.js.
   * Events it emits besides state's: 'epoch' ({ shared, accept }) for a link whose engine
   * this site does not ship. */
  constructor({ state, notify, progress }) {
    this.state = state;
    this.notify = notify;
    this.travel = new Travel(progress);
    /** { scenario, base, presetName, tMs }: where the engine was last known good. */
    this.good = null;
    this.player = new Player({
      sim: () => this.driver(),
      timeMs: () => state.timeMs,
      moved: (ms) => this.moved(ms),
      draw: () => this.frame(),
      visible: () => document.visibilityState === 'visible',
      failed: (e) => this.failed(e),
    });
    onTrap((trap, engine) => { if (this.state.sim?.engine === engine) this.trapped(trap, engine); });
    document.addEventListener('visibilitychange', () => this.player.schedule());
  }

  /** What moves time: the run, or both runs as one when comparing (compare.js). */
  driver() {
    const s = this.state;
    if (!s.sim) return null;
    return s.variant ? new SimPair(s.sim, s.variant.sim) : s.sim;
  }

  /** Opens the run in the URL, else the default preset. */
  async openInitial() {
    if (!(await this.openFromHash())) this.loadPreset(DEFAULT_PRESET);
  }

  /** Opens a shared scenario from the URL with the engine of its epoch; false when there is
   * none, it is unreadable, or its engine is not shipped (then the current one is offered). */
  async openFromHash() {
    let shared;
    try {
      shared = await openShare(location.hash);
    } catch (e) {
      if (e instanceof EngineDead) return false;
      const reason = messageOf(e).replace(/^link: /, '');
      this.notify.error(`This link could not be read: ${reason}. Opened the default scenario instead.`);
      history.replaceState(null, '', location.pathname + location.search);
      if (!this.state.sim) this.loadPreset(DEFAULT_PRESET);
      return false;
    }
    if (!shared) return false;
    if (!shared.engine) return this.offerCurrentEngine(shared);
    const ok = this.load(shared.scenario, {
      tMs: shared.tMs,
      engine: shared.engine,
      variant: shared.variant ? { scenario: shared.variant } : null,
      arrived: () => this.notify.note(`Replayed the shared scenario to t = ${formatMs(shared.tMs)} (${shared.note}).`),
    });
    if (!ok && !this.state.sim) this.loadPreset(DEFAULT_PRESET);
    return ok;
  }

  /** A link whose engine epoch this site does not ship: the page says so (ui/epoch.js) and
   * replays it with the current engine only when asked. Returns false. */
  offerCurrentEngine(shared) {
    const now = epochLabel(shared.offer.epoch);
    const accept = () => this.load(shared.scenario, {
      tMs: shared.tMs,
      arrived: () => this.notify.note(`Replayed with engine ${now}; made with ${epochLabel(shared.epoch)}, so it may differ from the shared run.`),
    });
    this.state.emit('epoch', { shared, accept });
    return false;
  }

  loadPreset(name) {
    let scenario;
    try {
      scenario = presetScenario(name);
    } catch (e) {
      if (!(e instanceof EngineDead)) this.notify.error(messageOf(e));
      return false;
    }
    return this.load(scenario, { presetName: name });
  }

  /** Replaces the run with a new one at time 0, then travels to `tMs` (sliced, with a
   * progress bar when long). On an invalid scenario the current run is kept. With
   * `variant` ({ scenario, base }) a second run is compared beside it (compare.js): both
   * must differ only in settings, else the page says why and keeps what it had. */
  load(scenario, { tMs = 0, presetName = null, base = null, engine = undefined, arrived = null, variant = null } = {}) {
    let sim = null;
    let other = null;
    let changed = null;
    try {
      if (variant) changed = checkComparable(scenario, variant.scenario);
      sim = new Sim(scenario, engine);
      if (variant) other = new Sim(variant.scenario, engine);
    } catch (e) {
      sim?.free();
      if (!(e instanceof EngineDead)) this.notify.error(variant ? messageOf(e) : `That scenario cannot run: ${messageOf(e)}`);
      return false;
    }
    this.travel.cancel();
    const s = this.state;
    s.sim?.free();
    s.variant?.sim.free();
    s.sim = sim;
    s.base = base ?? (typeof scenario === 'string' ? JSON.parse(scenario) : structuredClone(scenario));
    s.variant = other && {
      sim: other,
      base: variant.base ?? structuredClone(variant.scenario),
      changed,
      labels: sideLabels(sim.scenario(), other.scenario()),
    };
    s.presetName = presetName;
    s.timeMs = 0;
    s.selected = null;
    this.player.reset();
    this.good = { scenario: s.base, base: s.base, presetName, engine: sim.engine, tMs: 0 };
    s.emit('run');
    this.frame();
    if (tMs > 0) this.travelTo(tMs, arrived);
    return true;
  }

  /** Runs forward to `toMs` between frames; resolves with the time reached. */
  travelTo(toMs, arrived = null) {
    const s = this.state;
    return new Promise((resolve) => {
      this.travel.go({
        sim: this.driver(),
        fromMs: s.timeMs,
        toMs,
        label: `Running the simulation to t = ${formatMs(toMs)}…`,
        moved: (ms) => { this.moved(ms); this.frame({ travelling: true }); },
        done: (ms, { cancelled }) => {
          if (!s.sim) return resolve(ms);
          this.moved(ms);
          s.emit('seeked');
          this.frame();
          if (cancelled) this.notify.note(`Stopped at t = ${formatMs(ms)}: the run is here, consistent; play or seek on from this moment.`);
          else arrived?.();
          resolve(ms);
        },
        failed: (e) => { this.failed(e); resolve(s.timeMs); },
      });
    });
  }

  /** Travels to simulated time `ms`, backwards too: restores the latest checkpoint at or
   * before it (no replay), then runs forward in slices, so the moment is exact and the
   * page stays responsive. Resolves with the time reached (earlier if cancelled). */
  seek(ms) {
    const s = this.state;
    if (!s.sim) return Promise.resolve(s.timeMs);
    const target = Math.max(0, ms);
    this.travel.cancel();
    try {
      if (target < s.timeMs) {
        const driver = this.driver();
        const checkpointMs = Math.min(target, driver.checkpointBeforeMs(target));
        driver.seek(checkpointMs);
        this.moved(checkpointMs);
      }
    } catch (e) {
      this.failed(e);
      return Promise.resolve(s.timeMs);
    }
    return this.travelTo(target);
  }

  /** Restarts the loaded scenario from time 0 (live injections are dropped), with the
   * seed and size from the toolbar. */
  reset({ seed, nodes } = {}) {
    if (!this.state.base) return;
    const { scenario, dropped } = resized(this.state.base, seed, nodes);
    // A comparison restarts both sides, the variant with the same seed and size.
    const v = this.state.variant;
    const variant = v && { scenario: resized(v.base, seed, nodes).scenario };
    const wasPlaying = this.state.playing;
    if (this.load(scenario, { presetName: this.state.presetName, engine: this.state.sim?.engine, variant })) {
      if (dropped) this.notify.note(`${dropped} scheduled fault(s) named nodes the smaller cluster does not have; they were left out.`);
      if (wasPlaying) this.play();
    }
  }

  /** Restarts the loaded scenario from time 0 under another timing model (`{ kind, … }`
   * as `network.timing` writes it); the engine's validation says what is wrong. */
  withTiming(timing) {
    return this.rerun((scenario) => {
      scenario.network = { ...(scenario.network ?? {}), timing };
      if (timing.kind === 'probabilistic') delete scenario.network.timing;
    });
  }

  /** Restarts the loaded scenario from time 0 after `edit(scenario)` changed a copy of it;
   * the engine's validation says what is wrong (and the run on screen stays). */
  rerun(edit) {
    if (!this.state.base) return false;
    const scenario = structuredClone(this.state.base);
    edit(scenario);
    return this.load(scenario, { presetName: this.state.presetName, engine: this.state.sim?.engine });
  }

  play() {
    if (!this.state.sim) return;
    if (this.travel.busy) {
      this.notify.note('The run is still on its way to its moment: wait, or press Cancel to stop there.');
      return;
    }
    this.player.play();
    this.syncPlay();
  }

  pause() { this.player.pause(); this.syncPlay(); this.frame(); }
  toggle() { (this.state.playing ? this.pause() : this.play()); }
  setSpeed(speed) { this.player.setSpeed(speed); this.syncPlay(); }

  syncPlay() {
    const s = this.state;
    s.playing = this.player.playing;
    s.speed = this.player.speed;
    s.effectiveSpeed = this.player.effectiveSpeed;
    s.emit('play');
  }

  /** Advances simulated time by `ms` at once (the Step button: small steps). */
  step(ms) {
    if (!this.state.sim || this.travel.busy) return;
    this.advanceTo(this.state.timeMs + ms);
    this.frame();
  }

  advanceTo(targetMs) {
    try {
      this.driver().runUntil(targetMs);
      this.moved(targetMs);
    } catch (e) {
      this.failed(e);
    }
  }

  /** Injects a fault now; shows the engine's message on error. Returns success. */
  inject(fault, durationMs) {
    const s = this.state;
    if (!s.sim) return false;
    if (this.travel.busy) {
      this.notify.error('The run is still on its way to its moment: wait, or press Cancel, then inject.');
      return false;
    }
    let removed;
    try {
      if (s.variant) this.injectVariant(fault, durationMs);
    } catch (e) {
      if (!(e instanceof EngineDead)) this.notify.error(`${s.variant.labels[1]} refuses this fault, so neither run got it: ${messageOf(e)}`);
      return false;
    }
    try {
      removed = s.sim.inject(fault, durationMs);
      this.good = { ...this.good, scenario: s.sim.scenario(), tMs: s.timeMs };
    } catch (e) {
      if (e instanceof EngineDead) return false;
      this.notify.error(messageOf(e));
      if (s.variant) this.undoVariantInjection();
      return false;
    }
    if (removed.length) this.notify.note(`The run forked: removed from the schedule, as it no longer applies: ${removed.join('; ')}.`);
    // A shared link in the address bar follows the new future.
    if (location.hash.startsWith('#s=')) this.showLink(fragmentFor(s.sim, s.variant?.sim));
    s.emit('schedule');
    this.frame();
    return true;
  }

  /** A live fault goes to both runs of a comparison, the variant first: a refusal there
   * leaves both runs as they were. */
  injectVariant(fault, durationMs) {
    const v = this.state.variant;
    v.before = v.sim.scenario();
    v.sim.inject(fault, durationMs);
  }

  /** The first run refused a fault the variant took: the variant is replayed without it
   * (from its recorded scenario, to the same moment), so the two schedules stay one. */
  undoVariantInjection() {
    const s = this.state;
    const v = s.variant;
    try {
      const again = new Sim(v.before, s.sim.engine);
      again.runUntil(s.timeMs);
      v.sim.free();
      v.sim = again;
    } catch (e) {
      this.failed(e);
    }
  }

  /** Compares the run with `variantScenario` (a preset, or the scenario with a setting
   * changed): the variant takes this run's seed and its recorded faults (live injections
   * included) and both restart from 0 to the current moment. The engine's rule
   * (src/compare.rs) refuses a pair that differs in more than settings, in words. */
  compareWith(variantScenario) {
    const s = this.state;
    if (!s.sim) return false;
    const variant = structuredClone(variantScenario);
    variant.seed = s.base.seed;
    try {
      checkComparable(s.base, variant);
    } catch (e) {
      if (!(e instanceof EngineDead)) this.notify.error(messageOf(e));
      return false;
    }
    const base = structuredClone(variant);
    variant.faults = s.sim.scenario().faults ?? [];
    const ok = this.load(s.sim.scenario(), {
      tMs: s.timeMs, presetName: s.presetName, base: s.base, engine: s.sim.engine, variant: { scenario: variant, base },
    });
    if (ok && location.hash.startsWith('#s=')) this.showLink(fragmentFor(s.sim, s.variant?.sim));
    return ok;
  }

  /** Ends a comparison: the first run goes on alone, where it is. */
  stopComparing() {
    const s = this.state;
    if (!s.variant) return;
    this.travel.cancel();
    s.variant.sim.free();
    s.variant = null;
    if (location.hash.startsWith('#s=')) this.showLink(fragmentFor(s.sim));
    s.emit('compare');
    this.frame();
  }

  select(id) {
    this.state.selected = id;
    this.state.emit('select');
    this.frame();
  }

  /** Puts this run in the URL and copies it. Returns the URL. */
  share() {
    if (!this.state.sim) return location.href;
    this.showLink(fragmentFor(this.state.sim, this.state.variant?.sim));
    const url = location.href;
    const inBar = () => this.notify.note('The link is in the address bar: it replays this run to this moment.');
    if (navigator.clipboard?.writeText) {
      navigator.clipboard.writeText(url).then(() => this.notify.note('Link copied: it replays this run to this moment.'), inBar);
    } else {
      inBar();
    }
    return url;
  }

  showLink(fragment) {
    history.replaceState(null, '', `${location.pathname}${location.search}#${fragment}`);
  }

  moved(ms) {
    this.state.timeMs = ms;
    if (this.good) this.good.tMs = ms;
  }

  /** Asks every view to redraw (nothing while there is no live engine). */
  frame({ travelling = false } = {}) {
    const s = this.state;
    if (!s.sim || s.sim.engine.dead) return;
    s.effectiveSpeed = this.player.effectiveSpeed;
    s.emit('frame', { playing: s.playing, travelling });
  }

  failed(e) {
    if (e instanceof EngineDead) return; // the trap listener has it
    this.pause();
    this.notify.error(messageOf(e));
  }

  /** The engine trapped: stop everything, load a fresh instance, keep a link to the last
   * good moment, and tell the page (the trap banner offers "Restart from here"). */
  async trapped(trap, engine) {
    this.travel.abandon();
    this.player.pause();
    this.state.sim = null;
    this.state.variant = null; // the same instance: gone too; a restart brings back the first run
    this.syncPlay();
    const good = this.good;
    let link = null;
    try {
      const fresh = await reloadEngine(engine);
      if (good) {
        good.engine = fresh;
        const text = encodeLink(good.scenario, good.tMs, fresh);
        if (text) link = `s=${text}`;
      }
    } catch (e) {
      trap = { ...trap, reload: messageOf(e) };
    }
    if (link && location.hash.startsWith('#s=')) this.showLink(link);
    this.state.emit('trap', { trap, good, link });
  }

  /** After a trap: a fresh engine replays the recorded scenario to the last good moment. */
  restartFromHere() {
    const good = this.good;
    if (!good) return this.loadPreset(DEFAULT_PRESET);
    return this.load(good.scenario, {
      tMs: good.tMs,
      presetName: good.presetName,
      base: good.base,
      engine: good.engine,
      arrived: () => this.notify.note(`Restarted: a fresh engine replayed the run to t = ${formatMs(good.tMs)}.`),
    });
  }
}

/** A copy of `base` with another seed and size; faults naming nodes it lacks left out. */
function resized(base, seed, nodes) {
  const scenario = structuredClone(base);
  if (seed !== undefined) scenario.seed = seed;
  let dropped = 0;
  if (nodes !== undefined && nodes !== scenario.nodes) {
    scenario.nodes = nodes;
    const before = scenario.faults?.length ?? 0;
    scenario.faults = (scenario.faults ?? []).filter((f) => faultFits(f.fault, nodes));
    dropped = before - scenario.faults.length;
  }
  return { scenario, dropped };
}

function faultFits(fault, nodes) {
  const ids = [fault.node, fault.from, fault.to, fault.behaviour?.as_node, ...(fault.groups ?? []).flat(), ...(fault.a ?? []), ...(fault.b ?? [])];
  return ids.every((id) => id === undefined || id < nodes);
}
