// <faultline-sim>: a Faultline run as a custom element, for course pages without frames.
//
//   <script type="module" src="…/www/embed/faultline-sim.js"></script>
//   <faultline-sim scenario="split-brain" autoplay speed="2" controls="minimal"></faultline-sim>
//
// `scenario` is a preset name or a share link (`F1.…`, `#s=F1.…` or a whole URL). Each
// element runs its own simulation and play loop; all of them share the one compiled wasm
// module. A link replays on the engine of the epoch it was made with when the site ships it
// (a quiet note says so); otherwise the element says the run may differ and offers the
// current engine. Every URL is resolved against this script's own, so the element works
// from any page, on any origin (the host sends CORS headers: docs/publishing.md), and for
// a site under a sub-path. Each element plays with the page's player loop (player.js: the
// same slicing and speed back-off), only while it is playing, on screen and the tab
// visible; a link with a far moment is replayed in slices (travel.js), its progress shown in
// the time label. Styles are a constructed stylesheet (no inline <style>: a strict CSP holds).
// Attributes: autoplay, speed (0.1–100), controls="minimal" | "none", height (CSS length),
// compare (compare mode: a preset name or link, run beside the scenario with its seed and
// faults; a comparison link `…&vs=F1.…` as `scenario` does the same), exercise (a built-in
// exercise's name; a scenario with an `exercise` block poses one too: the goal, the task
// and Check, which judges the recorded run with the engine's judge, in slices).
import { loadEngine, Sim, messageOf, presetScenario, epochLabel, exerciseScenario, exercises } from '../sim.js';
import { openComparison } from '../share.js';
import { SimPair, checkComparable, differencesInWords, pairChecks, pairFigures, sideLabels } from '../compare.js';
import { headlineOf, judgeInSlices, partsOf } from '../judging.js';
import { Renderer } from '../render/canvas.js';
import { Player } from '../player.js';
import { Travel } from '../travel.js';
import { formatClock } from '../format.js';
import { Announcer } from '../ui/announce.js';

const SPEEDS = [0.25, 0.5, 1, 2, 5, 10, 25];
const APP_URL = new URL('../../index.html', import.meta.url).href;

const STYLE = `
:host { display: block; position: relative; height: var(--faultline-height, 360px); min-height: 200px;
  background: #0f1420; color: #e8ecf3; border-radius: 8px; overflow: hidden;
  font: 13px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; }
.wrap { display: flex; flex-direction: column; height: 100%; }
[hidden] { display: none !important; }
.sr { position: absolute; width: 1px; height: 1px; margin: 0; overflow: hidden; clip: rect(0 0 0 0); }
canvas { flex: 1; width: 100%; min-height: 0; display: block; }
.stages { flex: 1; display: flex; gap: 4px; min-height: 0; }
.stages.narrow { flex-direction: column; }
.side { flex: 1 1 0; position: relative; display: flex; min-width: 0; min-height: 0; }
.side canvas { height: 100%; }
.side + .side { border-left: 2px solid #5aa9ff; }
.stages.narrow .side + .side { border-left: 0; border-top: 2px solid #5aa9ff; }
.label { position: absolute; left: 6px; top: 4px; max-width: calc(100% - 12px); margin: 0; padding: 1px 6px; font-size: 12px; font-weight: 600;
  overflow: hidden; white-space: nowrap; text-overflow: ellipsis; background: rgba(20, 27, 40, 0.9); border-radius: 4px; pointer-events: none; }
.diff { margin: 0; padding: 3px 8px; font-size: 12px; background: #141b28; border-top: 1px solid #2a3550; max-height: 4.2em; overflow-y: auto; }
.exercise { padding: 4px 8px; background: #141b28; border-top: 1px solid #2a3550; font-size: 12px; max-height: 40%; overflow-y: auto; }
.exercise p { margin: 2px 0; }
.exercise .result { font-weight: 600; }
.exercise .result.met { color: #7bdcb5; }
.exercise .result.failed { color: #ffb3b3; }
.exercise ul { margin: 2px 0; padding-left: 18px; }
.bar { display: flex; align-items: center; gap: 6px; padding: 4px 8px; background: #141b28; border-top: 1px solid #2a3550; }
button, select { font: inherit; color: inherit; background: #1b2436; border: 1px solid #2a3550; border-radius: 5px; padding: 2px 8px; cursor: pointer; }
button:hover { border-color: #5aa9ff; }
:focus-visible { outline: 2px solid #ffd166; outline-offset: 1px; }
.t { font-variant-numeric: tabular-nums; color: #8a93a6; margin-left: 4px; }
.title { color: #8a93a6; overflow: hidden; white-space: nowrap; text-overflow: ellipsis; flex: 1; text-align: right; }
a { color: #5aa9ff; white-space: nowrap; }
.engine-note { position: absolute; top: 6px; left: 8px; color: #8a93a6; font-size: 12px; pointer-events: none; }
.offer { position: absolute; inset: 0; display: flex; flex-direction: column; gap: 10px; align-items: center; justify-content: center;
  padding: 16px; text-align: center; background: #2a2110; color: #ffd58a; }
.error { position: absolute; inset: 0; display: flex; align-items: center; justify-content: center; padding: 16px; text-align: center; background: #1d1015; color: #ffb3b3; }
`;

class FaultlineSim extends HTMLElement {
  static get observedAttributes() { return ['scenario', 'speed', 'compare', 'exercise']; }

  constructor() {
    super();
    this.sim = null;
    this.visible = true;
    this.timeMs = 0;
    this.player = new Player({
      sim: () => this.driver(),
      timeMs: () => this.timeMs,
      moved: (ms) => { this.timeMs = ms; },
      draw: () => this.draw(),
      visible: () => this.visible && document.visibilityState === 'visible',
      failed: (e) => this.fail(messageOf(e)),
    });
    this.travel = new Travel({
      show: (label, fraction) => { this.$('.t').textContent = `replaying… ${Math.floor(100 * fraction)}%`; },
      hide: () => {},
    });
    const root = this.attachShadow({ mode: 'open' });
    root.adoptedStyleSheets = [sheet()];
    root.innerHTML = `
      <div class="wrap">
        <div class="stages">
          <div class="side"><p class="label" hidden></p><canvas part="canvas" role="img" aria-label="A simulated cluster" aria-describedby="summary"></canvas></div>
          <div class="side" hidden><p class="label"></p><canvas part="canvas-b" role="img" aria-label="The compared run"></canvas></div>
        </div>
        <p class="diff" part="differences" hidden aria-label="Differences between the two runs"></p>
        <section class="exercise" part="exercise" hidden aria-label="Exercise">
          <p><strong class="ex-title"></strong> <span class="ex-task"></span></p>
          <p><strong>Goal:</strong> <span class="ex-goal"></span></p>
          <p><button type="button" data-act="check" title="Replay this run headless and judge it">Check</button>
            <span class="result" aria-live="polite"></span></p>
          <ul class="parts"></ul>
        </section>
        <p class="sr" id="summary"></p><p class="sr" role="status" aria-live="polite"></p>
        <div class="bar" part="controls">
          <button type="button" data-act="play" aria-pressed="false">▶ Play</button>
          <button type="button" data-act="step" title="Advance 10 ms">Step</button>
          <button type="button" data-act="reset">Reset</button>
          <select data-act="speed" aria-label="Speed">${SPEEDS.map((s) => `<option value="${s}">${s}×</option>`).join('')}</select>
          <span class="t" aria-live="off">0 ms</span>
          <span class="title"></span>
          <a target="_blank" rel="noopener">Open in Faultline ↗</a>
        </div>
      </div>`;
    this.$ = (sel) => root.querySelector(sel);
    this.renderer = new Renderer(this.$('canvas'));
    this.variantRenderer = new Renderer(root.querySelectorAll('canvas')[1]);
    this.variant = null; // compare mode: { sim, labels }
    this.lastDiff = 0;
    this.$('[data-act=check]').addEventListener('click', () => this.check());
    this.announcer = new Announcer(this.$('[role=status]'), this.$('#summary'));
    this.$('[data-act=play]').addEventListener('click', () => this.toggle());
    this.$('[data-act=step]').addEventListener('click', () => { this.pause(); this.advance(10); this.draw(); });
    this.$('[data-act=reset]').addEventListener('click', () => { this.load(); });
    this.$('[data-act=speed]').addEventListener('change', (ev) => this.player.setSpeed(Number(ev.target.value)));
    this.$('a').addEventListener('pointerdown', () => this.refreshLink());
    this.$('a').addEventListener('focus', () => this.refreshLink());
  }

  async connectedCallback() {
    const height = this.getAttribute('height');
    if (height) this.style.setProperty('--faultline-height', height);
    if (this.getAttribute('controls') === 'none') this.$('.bar').hidden = true;
    this.player.setSpeed(clampSpeed(Number(this.getAttribute('speed') ?? 1)));
    this.$('[data-act=speed]').value = String(SPEEDS.find((s) => s >= this.player.speed) ?? 1);
    this.resizeObserver = new ResizeObserver(() => this.resize());
    this.resizeObserver.observe(this);
    this.visibility = new IntersectionObserver((entries) => {
      this.visible = entries.some((e) => e.isIntersecting);
      this.schedule();
    });
    this.visibility.observe(this);
    this.onVisibility = () => this.schedule();
    document.addEventListener('visibilitychange', this.onVisibility);
    try {
      await loadEngine();
    } catch (e) {
      return this.fail(`The simulation engine could not load: ${messageOf(e)}`);
    }
    await this.load();
    if (this.hasAttribute('autoplay')) this.play();
    this.dataset.ready = '1';
  }

  disconnectedCallback() {
    this.pause();
    this.resizeObserver?.disconnect();
    this.visibility?.disconnect();
    document.removeEventListener('visibilitychange', this.onVisibility);
    this.sim?.free();
    this.sim = null;
    this.variant?.sim.free();
    this.variant = null;
    this.stopJudging?.();
  }

  attributeChangedCallback(name) {
    if (!this.dataset.ready) return;
    if (name === 'scenario' || name === 'compare' || name === 'exercise') {
      this.acceptedEngine = null;
      this.shadowRoot.querySelector('.offer')?.remove();
      delete this.dataset.epochWarning;
      this.load();
    }
    if (name === 'speed') this.player.setSpeed(clampSpeed(Number(this.getAttribute('speed'))));
  }

  /** What moves time: the run, or both runs of a comparison as one (compare.js). */
  driver() {
    if (!this.sim) return null;
    return this.variant ? new SimPair(this.sim, this.variant.sim) : this.sim;
  }

  /** (Re)starts the scenario named by the `scenario` attribute (or `exercise`); a link on
   * its epoch's engine; with `compare` (or a comparison link) the variant beside it. */
  async load() {
    const wanted = (this.getAttribute('scenario') ?? 'heartbeat').trim();
    let scenario, tMs = 0, engine, note = '', variant = null;
    let sim = null;
    try {
      if (this.hasAttribute('exercise')) {
        scenario = exerciseScenario(this.getAttribute('exercise').trim());
      } else if (isLink(wanted)) {
        const shared = await openComparison(wanted.replace(/^[^#]*#/, ''));
        if (!shared.engine && !this.acceptedEngine) return this.offer(shared);
        ({ scenario, tMs } = shared);
        variant = shared.variant ?? null;
        engine = shared.engine ?? this.acceptedEngine;
        note = shared.note ?? `replayed with engine ${epochLabel(engine.epoch)}; made with ${epochLabel(shared.epoch)}, so it may differ`;
      } else {
        scenario = presetScenario(wanted);
      }
      variant = (await this.variantFor(scenario)) ?? variant;
      if (variant) checkComparable(scenario, variant);
      sim = new Sim(scenario, engine);
      const other = variant ? new Sim(variant, engine) : null;
      this.travel.cancel();
      this.sim?.free();
      this.variant?.sim.free();
      this.sim = sim;
      this.variant = other && { sim: other, labels: sideLabels(scenario, variant) };
    } catch (e) {
      sim?.free();
      return this.fail(`This scenario cannot run: ${messageOf(e)}`);
    }
    this.$('.error')?.remove();
    delete this.dataset.error;
    this.timeMs = 0;
    this.player.reset();
    if (tMs > 0) this.replayTo(tMs);
    this.$('.title').textContent = scenario.name ?? '';
    this.$('canvas').setAttribute('aria-label', `Simulated cluster: ${scenario.name ?? 'scenario'}`);
    this.layoutSides();
    this.poseExercise(scenario);
    this.showEngineNote(note);
    this.refreshLink();
    this.resize();
  }

  /** The `compare` attribute's run: a preset takes the scenario's seed (the engine's rule
   * then checks the rest); a link is read as it was shared. */
  async variantFor(scenario) {
    const other = this.getAttribute('compare')?.trim();
    if (!other) return null;
    if (isLink(other)) return (await openComparison(`s=${other.replace(/^[^#]*#/, '').replace(/^s=/, '')}`)).scenario;
    const variant = presetScenario(other);
    variant.seed = scenario.seed;
    return variant;
  }

  /** One canvas, or two side by side (stacked when the element is narrow), labelled. */
  layoutSides() {
    const sides = this.shadowRoot.querySelectorAll('.side');
    const on = Boolean(this.variant);
    sides[1].hidden = !on;
    sides[0].querySelector('.label').hidden = !on;
    this.$('.diff').hidden = !on;
    this.dataset.comparing = on ? '1' : '';
    if (!on) return;
    const [la, lb] = this.variant.labels;
    sides[0].querySelector('.label').textContent = `A · ${la}`;
    sides[1].querySelector('.label').textContent = `B · ${lb}`;
    sides[1].querySelector('canvas').setAttribute('aria-label', `The compared run, B: ${lb}`);
    this.$('canvas').setAttribute('aria-label', `Simulated cluster, A: ${la}`);
  }

  resize() {
    // Side by side while each canvas keeps 280 px; stacked below that.
    this.$('.stages').classList.toggle('narrow', Boolean(this.variant) && this.clientWidth < 560);
    this.renderer.resize();
    if (this.variant) this.variantRenderer.resize();
    this.draw(true);
  }

  /** An exercise's task and goal with Check, when the scenario poses one. */
  poseExercise(scenario) {
    this.stopJudging?.();
    const ex = scenario.exercise ?? null;
    const box = this.$('.exercise');
    box.hidden = !ex;
    this.$('.result').textContent = '';
    this.$('.result').className = 'result';
    this.$('.parts').replaceChildren();
    if (!ex) return;
    const info = exercises().find((e) => e.name === ex.id);
    this.$('.ex-title').textContent = `Exercise: ${info?.title ?? scenario.name ?? ''}.`;
    this.$('.ex-task').textContent = ex.task || 'Reach the goal within the rules.';
    this.$('.ex-goal').textContent = info?.goal ?? JSON.stringify(ex.goal);
  }

  /** Judges the recorded run (never the live state) in slices; says the verdict. */
  check() {
    if (!this.sim || this.stopJudging) return;
    const result = this.$('.result');
    const button = this.$('[data-act=check]');
    const end = () => { this.stopJudging = null; button.disabled = false; };
    try {
      this.stopJudging = judgeInSlices(this.sim.scenario(), {
        progress: (p) => { result.textContent = `Checking: replayed ${formatClock(p.now_ms)} of ${formatClock(p.end_ms)}…`; },
        done: (j) => {
          end();
          result.className = `result ${j.met ? 'met' : 'failed'}`;
          result.textContent = headlineOf(j);
          this.dataset.headline = j.headline;
          this.$('.parts').replaceChildren(...partsOf(j).map((text) => {
            const li = document.createElement('li');
            li.textContent = text;
            return li;
          }));
        },
        failed: (e) => { end(); result.textContent = `Cannot check this run: ${messageOf(e)}`; },
      });
    } catch (e) {
      result.textContent = `Cannot check this run: ${messageOf(e)}`;
      return;
    }
    button.disabled = true;
    result.className = 'result';
    result.textContent = 'Checking: replaying this run…';
  }

  /** A quiet line naming the engine a link replayed on; it fades after a few seconds. */
  showEngineNote(note) {
    this.$('.engine-note')?.remove();
    if (!note) {
      delete this.dataset.engineNote;
      return;
    }
    this.dataset.engineNote = note;
    const el = document.createElement('div');
    el.className = 'engine-note';
    el.setAttribute('role', 'status');
    el.textContent = note;
    this.shadowRoot.append(el);
    setTimeout(() => el.remove(), 8000);
  }

  /** The link's engine is not shipped: say so plainly and offer the current engine. */
  offer(shared) {
    this.pause();
    const panel = document.createElement('div');
    panel.className = 'offer';
    panel.setAttribute('role', 'alert');
    const text = document.createElement('p');
    text.textContent = shared.warning;
    const button = document.createElement('button');
    button.type = 'button';
    button.textContent = `Replay with engine ${epochLabel(shared.offer.epoch)}`;
    button.addEventListener('click', async () => {
      panel.remove();
      delete this.dataset.epochWarning;
      this.acceptedEngine = shared.offer;
      await this.load();
      if (this.hasAttribute('autoplay')) this.play();
    });
    panel.append(text, button);
    this.shadowRoot.append(panel);
    this.dataset.epochWarning = shared.warning;
  }

  /** Replays a link's moment in slices; playing waits until it is reached. */
  replayTo(tMs) {
    const wasPlaying = this.player.playing;
    this.pause();
    this.travel.go({
      sim: this.driver(), fromMs: 0, toMs: tMs, label: '',
      moved: (ms) => { this.timeMs = ms; },
      done: (ms) => { this.timeMs = ms; this.draw(); if (wasPlaying || this.hasAttribute('autoplay')) this.play(); },
      failed: (e) => this.fail(`This scenario cannot run: ${messageOf(e)}`),
    });
  }

  refreshLink() {
    if (!this.sim) return;
    const vs = this.variant ? `&vs=${this.variant.sim.shareLink()}` : '';
    this.$('a').href = `${APP_URL}#s=${this.sim.shareLink()}${vs}`;
  }

  fail(message) {
    this.pause();
    let el = this.$('.error');
    if (!el) {
      el = document.createElement('div');
      el.className = 'error';
      el.setAttribute('role', 'alert');
      this.shadowRoot.append(el);
    }
    el.textContent = message;
    this.dataset.error = message;
  }

  play() {
    if (this.travel.busy) return;
    this.player.play();
    this.syncPlay();
  }

  pause() { this.player.pause(); this.syncPlay(); }
  toggle() { this.player.playing ? this.pause() : this.play(); }
  schedule() { this.player.schedule(); }

  syncPlay() {
    const b = this.$('[data-act=play]');
    b.textContent = this.player.playing ? '❚❚ Pause' : '▶ Play';
    b.setAttribute('aria-pressed', String(this.player.playing));
  }

  advance(ms) {
    if (!this.sim || this.travel.busy) return;
    try {
      this.driver().runUntil(this.timeMs + ms);
      this.timeMs += ms;
    } catch (e) {
      this.fail(messageOf(e));
    }
  }

  draw(force = false) {
    if (!this.sim) return;
    const cols = this.sim.columns();
    this.renderer.draw({ cols, timeMs: this.timeMs, selected: null, speed: this.player.effectiveSpeed });
    this.announcer.observe(this.sim, cols); // the canvas in words, for screen readers
    if (this.variant) {
      this.variantRenderer.draw({ cols: this.variant.sim.columns(), timeMs: this.timeMs, selected: null, speed: this.player.effectiveSpeed });
      this.sayDifferences(force || !this.player.playing);
    }
    this.$('.t').textContent = formatClock(this.timeMs);
  }

  /** The differences between the two runs in words, a few times a second. */
  sayDifferences(force) {
    const now = performance.now();
    if (!force && now - this.lastDiff < 250) return;
    this.lastDiff = now;
    const a = this.sim;
    const b = this.variant.sim;
    const words = differencesInWords(pairChecks(a.checks(), b.checks()), pairFigures(a.series(), b.series()), this.variant.labels);
    this.$('.diff').textContent = words.length ? words.join(' ') : 'No difference between the two runs so far.';
  }

  /** For tests: the run's trace hash, and the compared run's. */
  traceHash() { return this.sim?.traceHash(); }
  variantTraceHash() { return this.variant?.sim.traceHash(); }
}

let sharedSheet = null;
/** One constructed stylesheet shared by every element. */
function sheet() {
  if (!sharedSheet) {
    sharedSheet = new CSSStyleSheet();
    sharedSheet.replaceSync(STYLE);
  }
  return sharedSheet;
}

function isLink(text) {
  return /^(F\d+\.|#?s=|https?:)/.test(text);
}

function clampSpeed(v) {
  return Number.isFinite(v) ? Math.min(100, Math.max(0.1, v)) : 1;
}

if (!customElements.get('faultline-sim')) customElements.define('faultline-sim', FaultlineSim);
