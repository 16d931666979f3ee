// The toolbar and the preset panel: play/pause, step, speed, reset, seed, cluster size,
// share, the preset picker and its explanation. Keyboard: Space plays or pauses, "."
// steps, "r" resets, Escape closes menus and clears the selection.
import { freshSeed, messageOf } from '../sim.js';
import { LIMITS } from '../constants.js';
import { formatMs } from '../format.js';
import { rememberFold } from './fold.js';

const STEP_MS = 10;

export class Controls {
  /** presetList: the engine's presets ([{ name, title, class, … }]). */
  constructor({ root, state, session, notify, presetList }) {
    this.state = state;
    this.session = session;
    this.notify = notify;
    this.presetList = presetList;
    const $ = (sel) => root.querySelector(sel);
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
    state.on('run', () => this.syncScenario());
    state.on('play', () => this.syncPlay());
    state.on('frame', () => this.syncTime());
  }

  fillPresets() {
    const sel = this.el.preset;
    const custom = document.createElement('option');
    custom.value = '';
    custom.textContent = 'Shared or custom scenario';
    sel.append(custom);
    for (const p of this.presetList) {
      const opt = document.createElement('option');
      opt.value = p.name;
      opt.textContent = `${p.title} — ${p.class}`;
      sel.append(opt);
    }
  }

  wire() {
    const { el, session } = this;
    el.play.addEventListener('click', () => session.toggle());
    el.step.addEventListener('click', () => { session.pause(); session.step(STEP_MS); });
    el.speed.addEventListener('change', () => session.setSpeed(Number(el.speed.value)));
    el.reset.addEventListener('click', () => this.reset());
    el.randomSeed.addEventListener('click', () => {
      try {
        el.seed.value = String(freshSeed());
      } catch (e) {
        return this.notify.error(messageOf(e));
      }
      this.reset();
    });
    el.seed.addEventListener('change', () => this.reset());
    el.nodes.addEventListener('change', () => this.reset());
    el.share.addEventListener('click', () => session.share());
    el.preset.addEventListener('change', () => {
      if (el.preset.value) {
        history.replaceState(null, '', location.pathname + location.search);
        session.loadPreset(el.preset.value);
      }
    });
    document.addEventListener('keydown', (ev) => this.key(ev));
  }

  key(ev) {
    const typing = ev.target.closest?.('input, select, textarea');
    if (ev.key === 'Escape') {
      this.state.emit('escape');
      if (!typing) this.session.select(null);
      return;
    }
    if (typing || ev.ctrlKey || ev.metaKey || ev.altKey) return;
    if (ev.key === ' ' && !ev.target.closest?.('button')) {
      ev.preventDefault();
      this.session.toggle();
    } else if (ev.key === '.') {
      this.session.pause();
      this.session.step(STEP_MS);
    } else if (ev.key === 'r' || ev.key === 'R') {
      this.reset();
    }
  }

  /** Restarts with the toolbar's seed and size, checking them first. */
  reset() {
    const seed = Number(this.el.seed.value);
    if (!Number.isSafeInteger(seed) || seed < 0) {
      this.notify.error(`seed: must be a whole number from 0 to 2^53 − 1, got "${this.el.seed.value}"`);
      return;
    }
    const nodes = Number(this.el.nodes.value);
    const max = LIMITS.page_max_nodes;
    if (!Number.isInteger(nodes) || nodes < 1 || nodes > max) {
      this.notify.error(`nodes: must be a whole number from 1 to ${max}, got "${this.el.nodes.value}"`);
      return;
    }
    this.session.reset({ seed, nodes });
  }

  /** Shows the loaded scenario: title, seed, size and the preset's explanation. */
  syncScenario() {
    const { el, state } = this;
    const s = state.sim.scenario();
    el.title.textContent = s.name;
    el.seed.value = String(s.seed);
    el.nodes.value = String(s.nodes);
    el.nodes.max = String(LIMITS.page_max_nodes);
    el.preset.value = state.presetName ?? '';
    const preset = this.presetList.find((p) => p.name === state.presetName);
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
    play.setAttribute('aria-pressed', String(this.state.playing));
    play.textContent = this.state.playing ? '❚❚ Pause' : '▶ Play';
  }

  syncTime() {
    const s = this.state;
    const { msgsTotal, shown } = s.drawn ?? { msgsTotal: 0, shown: 0 };
    this.el.time.textContent = formatMs(s.timeMs);
    this.el.msgs.textContent = shown < msgsTotal
      ? `showing ${shown.toLocaleString()} of ${msgsTotal.toLocaleString()} messages`
      : `${msgsTotal.toLocaleString()} messages in flight`;
    const slow = s.playing && s.effectiveSpeed < s.speed * 0.9;
    this.el.slow.hidden = !slow;
    if (slow) this.el.slow.textContent = `running slower than requested (${s.effectiveSpeed.toPrecision(2)}×)`;
  }
}
