// The app: one object that owns the simulation, the play loop and what is selected.
// The loop runs only while playing and visible (requestAnimationFrame, nothing when
// paused or hidden), maps wall time to simulated time at the chosen speed, and only asks
// the engine to run to a simulated time. UI modules call the methods below.
import { loadEngine, Sim, messageOf, presets, presetScenario, epochLabel } from './sim.js';
import { Renderer } from './render/canvas.js';
import { openShare, fragmentFor } from './share.js';
import { Controls } from './ui/controls.js';
import { Inspector } from './ui/inspector.js';
import { FaultPalette, NodeMenu } from './ui/faults.js';
import { Timeline } from './ui/timeline.js';
import { drawLegend } from './ui/legend.js';
import { ChecksPanel } from './ui/checks.js';
import { Charts } from './ui/charts.js';
import { Export } from './ui/export.js';
import { Sweep } from './ui/sweep.js';
import { Announcer } from './ui/announce.js';

/** Longest wall-time step one frame may take, ms (a background tab must not jump). */
const MAX_FRAME_WALL_MS = 100;
/** Engine time per frame beyond which we lower the effective speed, ms. */
const FRAME_BUDGET_MS = 24;
const DEFAULT_PRESET = 'heartbeat';
export const PAGE_MAX_NODES = 1000;
/** Simulated time a forward seek runs per frame before it shows its progress, ms. */
const SEEK_CHUNK_BUDGET_MS = 30;

export class App {
  constructor(root) {
    this.root = root;
    this.sim = null;
    this.base = null; // the scenario as loaded, before live injections
    this.presetName = DEFAULT_PRESET;
    this.playing = false;
    this.speed = 1;
    this.effectiveSpeed = 1;
    this.timeMs = 0;
    this.selected = null;
    this.lastWall = null;
    this.lastInspect = 0;
    this.rafId = null;
    this.presetList = [];
    this.renderer = new Renderer(root.querySelector('#stage'));
    this.announcer = new Announcer(root.querySelector('#announcer'), root.querySelector('#stage-summary'));
    // `?embed`: canvas and minimal controls only, sized to the frame, for course pages.
    this.embedded = new URLSearchParams(location.search).has('embed');
    if (this.embedded) document.body.classList.add('embed');
  }

  async start() {
    try {
      await loadEngine();
    } catch (e) {
      this.showError(`The simulation engine could not load: ${messageOf(e)}`);
      return;
    }
    this.presetList = presets();
    this.controls = new Controls(this);
    this.inspector = new Inspector(this);
    this.palette = new FaultPalette(this);
    this.menu = new NodeMenu(this);
    this.timeline = new Timeline(this);
    this.checks = new ChecksPanel(this);
    this.charts = new Charts(this);
    this.exporter = new Export(this);
    this.sweep = new Sweep(this);
    this.wireCanvas();
    await this.openInitial();
    if (this.embedded) this.wireOpenFull();
    document.addEventListener('visibilitychange', () => this.schedule());
    window.addEventListener('resize', () => { this.renderer.resize(); this.render(); });
    window.addEventListener('hashchange', () => { this.openFromHash(); });
    this.renderer.resize();
    this.render();
    document.body.dataset.ready = '1';
  }

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
      const reason = messageOf(e).replace(/^link: /, '');
      this.showError(`This link could not be read: ${reason}. Opened the default scenario instead.`);
      history.replaceState(null, '', location.pathname + location.search);
      if (!this.sim) this.loadPreset(DEFAULT_PRESET);
      return false;
    }
    if (!shared) return false;
    if (!shared.engine) return this.offerCurrentEngine(shared);
    const ok = this.load(shared.scenario, { tMs: shared.tMs, presetName: null, engine: shared.engine });
    if (ok) {
      this.showNote(`Replayed the shared scenario to t = ${formatMs(shared.tMs)} (${shared.note}).`);
    } else if (!this.sim) {
      this.loadPreset(DEFAULT_PRESET);
    }
    return ok;
  }

  /** A link whose engine epoch this site does not ship: say so, and replay it with the
   * current engine only when asked. Returns false (nothing of the link is loaded yet). */
  offerCurrentEngine(shared) {
    const el = this.root.querySelector('#epoch-warning');
    const now = epochLabel(shared.offer.epoch);
    el.querySelector('.text').textContent = `${shared.warning} Until you choose, the default scenario is shown.`;
    const button = el.querySelector('.replay');
    button.textContent = `Replay with engine ${now}`;
    button.onclick = () => {
      el.hidden = true;
      if (this.load(shared.scenario, { tMs: shared.tMs, presetName: null })) {
        this.showNote(`Replayed with engine ${now}; made with ${epochLabel(shared.epoch)}, so it may differ from the shared run.`);
      }
    };
    el.hidden = false;
    return false;
  }

  loadPreset(name) {
    let scenario;
    try {
      scenario = presetScenario(name);
    } catch (e) {
      this.showError(messageOf(e));
      return false;
    }
    return this.load(scenario, { presetName: name });
  }

  /** Replaces the run with a new one; on error the current run is kept. */
  load(scenario, { tMs = 0, presetName = null, engine = undefined } = {}) {
    let sim;
    try {
      sim = new Sim(scenario, engine);
      if (tMs > 0) sim.runUntil(tMs);
    } catch (e) {
      this.showError(`That scenario cannot run: ${messageOf(e)}`);
      if (sim) sim.free();
      return false;
    }
    if (this.sim) this.sim.free();
    this.sim = sim;
    this.base = typeof scenario === 'string' ? JSON.parse(scenario) : structuredClone(scenario);
    this.presetName = presetName;
    this.timeMs = sim.inspect().time_ms;
    this.selected = null;
    this.menu?.close();
    this.controls?.syncScenario();
    this.timeline?.restart();
    this.checks?.reset();
    this.refreshLegend();
    this.render();
    return true;
  }

  /** The legend for this run's protocol: its roles and message kinds. */
  refreshLegend() {
    this.valuePrefix = { lease: 'tok ', service: 'breakers open: ' }[this.sim.inspect().protocol] ?? 'v=';
    const cols = this.sim.columns();
    const roles = new Set(cols.nodeRole);
    drawLegend(this.root.querySelector('#legend-list'), this.sim.messageKinds(), roles);
  }

  /** Travels to simulated time `ms`, backwards too: the engine restores its latest
   * checkpoint before `ms` and replays, so the moment is exact. Far forward seeks run in
   * slices with a progress note, so the page stays responsive. */
  seek(ms) {
    const target = Math.max(0, ms);
    if (this.seekJob) cancelAnimationFrame(this.seekJob);
    this.seekJob = null;
    const done = () => {
      if (this.travelNote) this.root.querySelector('#note').hidden = true;
      this.travelNote = false;
      this.timeMs = target;
      this.checks.reset();
      this.charts.update(true);
      this.render();
    };
    try {
      if (target <= this.timeMs) {
        this.sim.seek(target);
        return done();
      }
      const startMs = this.timeMs;
      const slice = () => {
        const t0 = performance.now();
        let chunk = 250;
        while (this.timeMs < target && performance.now() - t0 < SEEK_CHUNK_BUDGET_MS) {
          const next = Math.min(target, this.timeMs + chunk);
          this.sim.seek(next);
          this.timeMs = next;
          chunk *= 2;
        }
        if (this.timeMs < target) {
          const pct = Math.round((100 * (this.timeMs - startMs)) / (target - startMs));
          this.showNote(`Travelling to ${formatMs(target)}… ${pct}%`);
          this.travelNote = true;
          this.render();
          this.seekJob = requestAnimationFrame(slice);
        } else {
          this.seekJob = null;
          done();
        }
      };
      slice();
    } catch (e) {
      this.showError(messageOf(e));
    }
  }

  /** Restarts the loaded scenario from time 0 (live injections are dropped), with the seed
   * and size from the toolbar. */
  reset({ seed, nodes } = {}) {
    const scenario = structuredClone(this.base);
    if (seed !== undefined) scenario.seed = seed;
    let dropped = 0;
    if (nodes !== undefined && nodes !== scenario.nodes) {
      scenario.nodes = nodes;
      const before = scenario.faults?.length ?? 0;
      scenario.faults = (scenario.faults ?? []).filter((f) => faultFits(f.fault, nodes));
      dropped = before - scenario.faults.length;
    }
    const wasPlaying = this.playing;
    if (this.load(scenario, { presetName: this.presetName, engine: this.sim.engine })) {
      if (dropped) this.showNote(`${dropped} scheduled fault(s) named nodes the smaller cluster does not have; they were left out.`);
      if (wasPlaying) this.play();
    }
  }

  play() { this.playing = true; this.lastWall = null; this.schedule(); this.controls.syncPlay(); }
  pause() { this.playing = false; this.schedule(); this.controls.syncPlay(); this.render(); }
  toggle() { (this.playing ? this.pause() : this.play()); }
  setSpeed(speed) { this.speed = speed; this.effectiveSpeed = speed; }

  /** Advances simulated time by `ms` while paused (single step). */
  step(ms) {
    this.advanceTo(this.timeMs + ms);
    this.render();
  }

  advanceTo(targetMs) {
    try {
      this.sim.runUntil(targetMs);
      this.timeMs = targetMs;
    } catch (e) {
      this.pause();
      this.showError(messageOf(e));
    }
  }

  /** Injects a fault now; shows the engine's message on error. Returns success. */
  inject(fault, durationMs) {
    let removed;
    try {
      removed = this.sim.inject(fault, durationMs);
    } catch (e) {
      this.showError(messageOf(e));
      return false;
    }
    if (removed.length) this.showNote(`The run forked: removed from the schedule, as it no longer applies: ${removed.join('; ')}.`);
    // A shared link in the address bar follows the new future.
    if (location.hash.startsWith('#s=')) history.replaceState(null, '', `${location.pathname}${location.search}#${fragmentFor(this.sim)}`);
    this.timeline.refresh(true);
    this.render();
    return true;
  }

  select(id) {
    this.selected = id;
    this.inspector.update(true);
    this.render();
  }

  share() {
    const fragment = fragmentFor(this.sim);
    history.replaceState(null, '', `${location.pathname}${location.search}#${fragment}`);
    const url = location.href;
    if (navigator.clipboard?.writeText) {
      navigator.clipboard.writeText(url).then(
        () => this.showNote('Link copied: it replays this run to this moment.'),
        () => this.showNote('The link is in the address bar: it replays this run to this moment.'),
      );
    } else {
      this.showNote('The link is in the address bar: it replays this run to this moment.');
    }
    return url;
  }

  /** Starts or stops the frame loop: frames only while playing and visible. */
  schedule() {
    const want = this.playing && document.visibilityState === 'visible';
    if (want && this.rafId === null) {
      this.lastWall = null;
      this.rafId = requestAnimationFrame((t) => this.frame(t));
    } else if (!want && this.rafId !== null) {
      cancelAnimationFrame(this.rafId);
      this.rafId = null;
    }
  }

  frame(now) {
    this.rafId = null;
    if (!this.playing || document.visibilityState !== 'visible') return;
    const wallMs = this.lastWall === null ? 16 : Math.min(MAX_FRAME_WALL_MS, now - this.lastWall);
    this.lastWall = now;
    const t0 = performance.now();
    this.advanceTo(this.timeMs + wallMs * this.effectiveSpeed);
    const engineMs = performance.now() - t0;
    // Too slow for the requested speed: back off; recover gently when there is room.
    if (engineMs > FRAME_BUDGET_MS) this.effectiveSpeed = Math.max(this.speed / 1000, this.effectiveSpeed * 0.7);
    else if (this.effectiveSpeed < this.speed && engineMs < FRAME_BUDGET_MS / 2) this.effectiveSpeed = Math.min(this.speed, this.effectiveSpeed * 1.1);
    this.render();
    this.schedule();
  }

  render() {
    if (!this.sim) return;
    const pausedUntil = new Map();
    const cols = this.sim.columns();
    for (let i = 0; i < cols.nodes && pausedUntil.size < 64; i++) {
      if (cols.nodeStatus[i] === 2) pausedUntil.set(i, null);
    }
    for (const id of pausedUntil.keys()) pausedUntil.set(id, this.sim.nodeView(id).paused_until_ms);
    const fresh = this.sim.columns(); // nodeView may have grown memory: views are rebuilt
    this.renderer.draw({
      cols: fresh, timeMs: this.timeMs, selected: this.selected, speed: this.effectiveSpeed, pausedUntil,
      violating: this.checks.violating,
      valuePrefix: this.valuePrefix,
    });
    this.announcer.observe(this.sim, fresh);
    this.controls.syncTime(fresh.msgsTotal ?? fresh.msgs, this.renderer.lastDrawn);
    this.timeline.tick();
    const now = performance.now();
    if (now - this.lastInspect > 100 || !this.playing) {
      this.lastInspect = now;
      this.inspector.update();
      this.checks.update();
    }
    this.charts.update(!this.playing);
  }

  /** In embed mode: the "Open in Faultline" link carries the run as it is when clicked. */
  wireOpenFull() {
    const a = this.root.querySelector('#open-full');
    a.hidden = false;
    const refresh = () => { if (this.sim) a.href = `${location.pathname}#${fragmentFor(this.sim)}`; };
    a.addEventListener('pointerdown', refresh);
    a.addEventListener('focus', refresh);
    refresh();
  }

  showError(message) { this.banner('error', message); }
  showViolation(message) { this.banner('violation', message); }
  showNote(message) { this.banner('note', message); }

  banner(kind, message) {
    const el = this.root.querySelector(`#${kind}`);
    el.querySelector('.text').textContent = message;
    el.hidden = false;
    if (kind === 'note') {
      clearTimeout(this.noteTimer);
      this.noteTimer = setTimeout(() => { el.hidden = true; }, 6000);
    }
  }

  /** For tests and the legend: where node `id` is drawn, in page coordinates. */
  nodeScreenPosition(id) {
    const p = this.renderer.nodeScreenPosition(id);
    const rect = this.renderer.canvas.getBoundingClientRect();
    return { x: rect.left + p.x, y: rect.top + p.y };
  }

  wireCanvas() {
    const canvas = this.renderer.canvas;
    canvas.addEventListener('click', (ev) => {
      const rect = canvas.getBoundingClientRect();
      // A fingertip gets a 44 px target however small the node is drawn.
      const id = this.renderer.nodeAt(ev.clientX - rect.left, ev.clientY - rect.top, ev.pointerType === 'touch' ? 22 : 0);
      if (id === null) {
        this.menu.close();
        this.select(null);
      } else {
        this.select(id);
        this.menu.open(id, ev.clientX, ev.clientY);
      }
    });
  }
}

function faultFits(fault, nodes) {
  const ids = [fault.node, fault.from, fault.to, fault.behaviour?.as_node, ...(fault.groups ?? []).flat(), ...(fault.a ?? []), ...(fault.b ?? [])];
  return ids.every((id) => id === undefined || id < nodes);
}

export function formatMs(ms) {
  if (ms < 1000) return `${ms.toFixed(ms < 10 ? 2 : 0)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(2)} s`;
  const s = ms / 1000;
  return `${Math.floor(s / 60)} min ${(s % 60).toFixed(1)} s`;
}

const app = new App(document);
window.faultline = app;
app.start();
