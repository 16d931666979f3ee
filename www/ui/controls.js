// The toolbar and the preset panel: play/pause, step, speed, reset, seed, cluster size,
// share, the preset picker and its explanation. Keyboard: Space plays or pauses, "."
// steps, "r" resets, Escape closes menus and clears the selection.
import { freshSeed } from '../sim.js';
import { PAGE_MAX_NODES, formatMs } from '../app.js';
import { rememberFold } from './fold.js';

const STEP_MS = 10;

export class Controls {
  constructor(app) {
    this.app = app;
    const $ = (sel) => app.root.querySelector(sel);
    this.el = {
      play: $('#play'), step: $('#step'), speed: $('#speed'), reset: $('#reset'),
      seed: $('#seed'), randomSeed: $('#random-seed'), nodes: $('#nodes'), share: $('#share'),
      preset: $('#preset'), time: $('#time'), msgs: $('#msg-count'), slow: $('#slow-note'),
      title: $('#scenario-title'), panel: $('#preset-panel'),
      summary: $('#preset-summary'), watch: $('#preset-watch'), tryNext: $('#preset-try'),
      klass: $('#preset-class'),
    };
    this.fillPresets();
    this.wire();
    rememberFold(this.el.panel, 'faultline.explanation');
  }

  fillPresets() {
    const sel = this.el.preset;
    const custom = document.createElement('option');
    custom.value = '';
    custom.textContent = 'Shared or custom scenario';
    sel.append(custom);
    for (const p of this.app.presetList) {
      const opt = document.createElement('option');
      opt.value = p.name;
      opt.textContent = `${p.title} — ${p.class}`;
      sel.append(opt);
    }
  }

  wire() {
    const { el, app } = this;
    el.play.addEventListener('click', () => app.toggle());
    el.step.addEventListener('click', () => { app.pause(); app.step(STEP_MS); });
    el.speed.addEventListener('change', () => app.setSpeed(Number(el.speed.value)));
    el.reset.addEventListener('click', () => this.reset());
    el.randomSeed.addEventListener('click', () => { el.seed.value = String(freshSeed()); this.reset(); });
    el.seed.addEventListener('change', () => this.reset());
    el.nodes.addEventListener('change', () => this.reset());
    el.share.addEventListener('click', () => app.share());
    el.preset.addEventListener('change', () => {
      if (el.preset.value) {
        history.replaceState(null, '', location.pathname + location.search);
        app.loadPreset(el.preset.value);
      }
    });
    document.addEventListener('keydown', (ev) => this.key(ev));
    for (const banner of app.root.querySelectorAll('.banner')) {
      banner.querySelector('.dismiss').addEventListener('click', () => { banner.hidden = true; });
    }
  }

  key(ev) {
    const typing = ev.target.closest?.('input, select, textarea');
    if (ev.key === 'Escape') {
      this.app.menu.close();
      if (!typing) this.app.select(null);
      return;
    }
    if (typing || ev.ctrlKey || ev.metaKey || ev.altKey) return;
    if (ev.key === ' ' && !ev.target.closest?.('button')) {
      ev.preventDefault();
      this.app.toggle();
    } else if (ev.key === '.') {
      this.app.pause();
      this.app.step(STEP_MS);
    } else if (ev.key === 'r' || ev.key === 'R') {
      this.reset();
    }
  }

  /** Restarts with the toolbar's seed and size, checking them first. */
  reset() {
    const seed = Number(this.el.seed.value);
    if (!Number.isSafeInteger(seed) || seed < 0) {
      this.app.showError(`seed: must be a whole number from 0 to 2^53 − 1, got "${this.el.seed.value}"`);
      return;
    }
    const nodes = Number(this.el.nodes.value);
    if (!Number.isInteger(nodes) || nodes < 1 || nodes > PAGE_MAX_NODES) {
      this.app.showError(`nodes: must be a whole number from 1 to ${PAGE_MAX_NODES}, got "${this.el.nodes.value}"`);
      return;
    }
    this.app.reset({ seed, nodes });
  }

  /** Shows the loaded scenario: title, seed, size and the preset's explanation. */
  syncScenario() {
    const { el, app } = this;
    const s = app.sim.scenario();
    el.title.textContent = s.name;
    el.seed.value = String(s.seed);
    el.nodes.value = String(s.nodes);
    el.preset.value = app.presetName ?? '';
    const preset = app.presetList.find((p) => p.name === app.presetName);
    el.panel.hidden = !preset;
    if (preset) {
      el.klass.textContent = preset.class;
      el.summary.textContent = preset.summary;
      el.watch.textContent = preset.watch;
      el.tryNext.textContent = preset.try_next;
    }
    this.syncPlay();
  }

  syncPlay() {
    const { play } = this.el;
    play.setAttribute('aria-pressed', String(this.app.playing));
    play.textContent = this.app.playing ? '❚❚ Pause' : '▶ Play';
  }

  syncTime(msgsTotal, drawn) {
    this.el.time.textContent = formatMs(this.app.timeMs);
    this.el.msgs.textContent = drawn.shown < msgsTotal
      ? `showing ${drawn.shown.toLocaleString()} of ${msgsTotal.toLocaleString()} messages`
      : `${msgsTotal.toLocaleString()} messages in flight`;
    const slow = this.app.playing && this.app.effectiveSpeed < this.app.speed * 0.9;
    this.el.slow.hidden = !slow;
    if (slow) this.el.slow.textContent = `running slower than requested (${this.app.effectiveSpeed.toPrecision(2)}×)`;
  }
}
