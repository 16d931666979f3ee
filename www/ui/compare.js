// Compare mode on the page: the Compare… dialog (a preset with the same nodes and faults,
// or this scenario with a setting changed, as JSON), "Compare with it" in the preset panel
// for the presets its "try next" names (src/compare.rs decides which), the two canvases
// side by side (stacked on narrow screens; the variant's stage is passed in), and the
// panel that sets the two runs' verdicts and figures against each other, the differences
// in words first. The session drives both runs as one (one clock, one scrubber, faults to
// both); this module only shows them and asks.
import { EngineDead, comparePartners, messageOf, presetScenario } from '../sim.js';
import { checkComparable, differencesInWords, formatFigure, pairChecks, pairFigures } from '../compare.js';

/** How often the panel refreshes while playing, ms. */
const UPDATE_MS = 250;

export class ComparePanel {
  /** presetList: the engine's presets ([{ name, title, … }]). */
  constructor({ root, state, session, notify, presetList }) {
    this.state = state;
    this.session = session;
    this.notify = notify;
    this.presetList = presetList;
    const $ = (sel) => root.querySelector(sel);
    this.el = {
      open: $('#compare-open'), dialog: $('#compare-dialog'), presetForm: $('#compare-preset-form'), preset: $('#compare-preset'),
      jsonForm: $('#compare-json-form'), json: $('#compare-json'), error: $('#compare-error'), close: $('#compare-close'),
      panel: $('#compare-panel'), changed: $('#compare-changed'), verdict: $('#compare-verdict'), words: $('#compare-words'),
      table: $('#compare-table tbody'), headA: $('#compare-head-a'), headB: $('#compare-head-b'), stop: $('#compare-stop'),
      stages: $('#stages'), wrapB: $('#stage-b-wrap'), labelA: $('#stage-label-a'), labelB: $('#stage-label-b'),
      chartsA: $('#charts .charts-side'), chartsB: $('#charts-b .charts-side'), partners: $('#preset-compare'),
    };
    this.lastUpdate = 0;
    this.last = '';
    this.el.open.addEventListener('click', () => this.showDialog());
    this.el.close.addEventListener('click', () => this.el.dialog.close());
    this.el.presetForm.addEventListener('submit', (ev) => { ev.preventDefault(); this.fromPreset(this.el.preset.value); });
    this.el.jsonForm.addEventListener('submit', (ev) => { ev.preventDefault(); this.fromJson(this.el.json.value); });
    this.el.stop.addEventListener('click', () => session.stopComparing());
    state.on('run', () => { this.layout(); this.offerPartners(); });
    state.on('compare', () => this.layout());
    state.on('seeked', () => this.update(true));
    state.on('frame', ({ playing, travelling }) => this.update(!playing && !travelling));
  }

  /** Shows or hides the second canvas, its labels and the panel. */
  layout() {
    const v = this.state.variant;
    const on = Boolean(v);
    this.el.stages.classList.toggle('comparing', on);
    this.el.wrapB.hidden = !on;
    this.el.panel.hidden = !on;
    this.el.labelA.hidden = !on;
    this.el.chartsA.hidden = !on;
    document.body.classList.toggle('comparing', on);
    this.last = '';
    if (!on) return;
    const [la, lb] = v.labels;
    this.el.labelA.textContent = `A · ${la}`;
    this.el.labelB.textContent = `B · ${lb}`;
    this.el.chartsA.textContent = `A · ${la}`;
    this.el.chartsB.textContent = `B · ${lb}`;
    this.el.headA.textContent = `A · ${la}`;
    this.el.headB.textContent = `B · ${lb}`;
    this.el.wrapB.querySelector('canvas').setAttribute('aria-label', `The compared run, B: ${lb}. Nodes, messages in flight and faults.`);
    this.el.changed.textContent = `Same seed and faults; B changes ${v.changed.map((p) => `\`${p}\``).join(', ')}.`;
    this.update(true);
  }

  /** "Compare with it" for each preset this one's "try next" names that differs only in
   * settings (the engine's rule). */
  offerPartners() {
    const names = this.state.presetName && !this.state.variant ? comparePartners(this.state.presetName) : [];
    const box = this.el.partners;
    box.hidden = names.length === 0;
    box.replaceChildren(...names.map((name) => {
      const title = this.presetList.find((p) => p.name === name)?.title ?? name;
      const b = document.createElement('button');
      b.type = 'button';
      b.dataset.compareWith = name;
      b.textContent = `Compare with ‘${title}’ side by side`;
      b.addEventListener('click', () => this.fromPreset(name, (m) => this.notify.error(m)));
      return b;
    }));
  }

  showDialog() {
    const sel = this.el.preset;
    sel.replaceChildren(...this.presetList.filter((p) => p.name !== this.state.presetName).map((p) => {
      const opt = document.createElement('option');
      opt.value = p.name;
      opt.textContent = p.title;
      return opt;
    }));
    const partner = this.state.presetName ? comparePartners(this.state.presetName)[0] : undefined;
    if (partner) sel.value = partner;
    const base = structuredClone(this.state.variant?.base ?? this.state.base ?? {});
    delete base.about;
    this.el.json.value = JSON.stringify(base, null, 2);
    this.say('');
    this.el.dialog.showModal();
  }

  say(message) {
    this.el.error.hidden = !message;
    this.el.error.textContent = message;
  }

  fromPreset(name, report = (m) => this.say(m)) {
    let scenario;
    try {
      scenario = presetScenario(name);
    } catch (e) {
      if (!(e instanceof EngineDead)) report(messageOf(e));
      return false;
    }
    return this.start(scenario, report);
  }

  fromJson(text, report = (m) => this.say(m)) {
    let scenario;
    try {
      scenario = JSON.parse(text);
    } catch (e) {
      report(`The variant is not JSON: ${messageOf(e)}`);
      return false;
    }
    return this.start(scenario, report);
  }

  /** Asks the engine's rule first, so a refusal is said where the learner is looking. */
  start(scenario, report) {
    const s = this.state;
    try {
      checkComparable(s.base, { ...scenario, seed: s.base.seed });
    } catch (e) {
      if (!(e instanceof EngineDead)) report(messageOf(e));
      return false;
    }
    const ok = this.session.compareWith(scenario);
    if (ok && this.el.dialog.open) this.el.dialog.close();
    return ok;
  }

  /** The verdicts and figures of both runs, the differences in words first. */
  update(force = false) {
    const s = this.state;
    if (!s.variant || !s.sim) return;
    const now = performance.now();
    if (!force && now - this.lastUpdate < UPDATE_MS) return;
    this.lastUpdate = now;
    const a = s.sim;
    const b = s.variant.sim;
    const checks = pairChecks(a.checks(), b.checks());
    const figures = pairFigures(a.series(), b.series());
    const key = JSON.stringify([checks, figures]);
    if (key === this.last) return;
    this.last = key;
    const words = differencesInWords(checks, figures, s.variant.labels);
    this.el.verdict.textContent = words.length
      ? `${words.length} difference${words.length === 1 ? '' : 's'} so far:`
      : 'No difference in the checkers or figures so far.';
    this.el.words.replaceChildren(...words.map((w) => {
      const li = document.createElement('li');
      li.textContent = w;
      return li;
    }));
    const rows = [
      ...checks.map((r) => tableRow(r.name, r.a, r.b, r.differs, r.id)),
      ...figures.map((f) => tableRow(f.name, formatFigure(f.a, f.unit), formatFigure(f.b, f.unit), f.differs, f.id)),
    ];
    this.el.table.replaceChildren(...rows);
  }
}

function tableRow(name, a, b, differs, id) {
  const tr = document.createElement('tr');
  tr.dataset.id = id;
  if (differs) tr.className = 'differs';
  const th = document.createElement('th');
  th.scope = 'row';
  th.textContent = differs ? `≠ ${name}` : name;
  const ta = document.createElement('td');
  ta.textContent = a;
  const tb = document.createElement('td');
  tb.textContent = b;
  tr.append(th, ta, tb);
  return tr;
}
