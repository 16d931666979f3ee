// Exercises on the page: the panel (task, goal, the fault budget left, the rules, Check,
// hints one at a time) shown whenever the loaded scenario poses an exercise, and the index
// dialog (every built-in exercise with this browser's progress, "Reset my progress").
// Check judges the recorded scenario — the run the learner made, injections included —
// replayed headless by the engine (src/exercise/judge.rs) in slices between frames, never
// the live state, so time travel cannot fool it. `?exercise=NAME` poses a built-in one;
// a share link of an exercise run poses it too. Progress lives in localStorage only.
import { EngineDead, exerciseScenario, exercises, messageOf } from '../sim.js';
import { formatMs } from '../format.js';
import { headlineOf, judgeInSlices, partsOf } from '../judging.js';
import { ExerciseSettings } from './exercise-settings.js';

const STORE = 'faultline.exercises';

/** The learner's faults: the scenario's faults minus the posed ones (each once). */
function learnerFaults(posed, faults) {
  const key = (f) => JSON.stringify([f.at_ms, f.fault, f.duration_ms ?? null]);
  const left = new Map();
  for (const f of posed) left.set(key(f), (left.get(key(f)) ?? 0) + 1);
  return faults.filter((f) => {
    const n = left.get(key(f)) ?? 0;
    if (n > 0) left.set(key(f), n - 1);
    return n === 0;
  });
}

function loadProgress() {
  try {
    return JSON.parse(localStorage.getItem(STORE) ?? '{}') ?? {};
  } catch {
    return {};
  }
}

export class ExercisePanel {
  constructor({ root, state, session, notify }) {
    this.state = state;
    this.session = session;
    this.notify = notify;
    const $ = (sel) => root.querySelector(sel);
    this.el = {
      panel: $('#exercise-panel'), title: $('#exercise-title'), task: $('#exercise-task'), goal: $('#exercise-goal'),
      budget: $('#exercise-budget'), rules: $('#exercise-rules'), check: $('#exercise-check'), hint: $('#exercise-hint'),
      result: $('#exercise-result'), hints: $('#exercise-hints'), open: $('#exercises-open'), dialog: $('#exercise-index'),
      list: $('#exercise-list'), progress: $('#exercise-progress'), reset: $('#exercise-reset'), close: $('#exercise-index-close'),
    };
    this.list = exercises();
    /** The exercise the page was opened with (`?exercise=NAME`), read before any run loads. */
    this.queryName = new URLSearchParams(location.search).get('exercise');
    this.exercise = null;
    this.posedFaults = [];
    this.shownHints = 0;
    this.job = null;
    this.settings = new ExerciseSettings($('#exercise-settings'), (edit, error) => this.applySettings(edit, error));
    this.el.check.addEventListener('click', () => this.check());
    this.el.hint.addEventListener('click', () => this.hint());
    this.el.open.addEventListener('click', () => this.showIndex());
    this.el.close.addEventListener('click', () => this.el.dialog.close());
    this.el.reset.addEventListener('click', () => this.resetProgress());
    state.on('run', () => this.fill());
    state.on('schedule', () => this.sayBudget());
  }

  /** Poses the exercise `?exercise=NAME` names; false when the URL names none. */
  openFromQuery() {
    return this.queryName ? this.open(this.queryName) : false;
  }

  open(name) {
    let scenario;
    try {
      scenario = exerciseScenario(name);
    } catch (e) {
      if (!(e instanceof EngineDead)) this.notify.error(messageOf(e));
      return false;
    }
    // `?embed` stays: a course page's frame can pose an exercise (`?embed&exercise=NAME`).
    const embed = new URLSearchParams(location.search).has('embed') ? 'embed&' : '';
    history.replaceState(null, '', `${location.pathname}?${embed}exercise=${encodeURIComponent(name)}`);
    return this.session.load(scenario);
  }

  fill() {
    this.cancel();
    const s = this.state.sim.scenario();
    const ex = s.exercise ?? null;
    this.exercise = ex;
    this.el.panel.hidden = !ex;
    document.body.classList.toggle('has-exercise', Boolean(ex));
    if (!ex) {
      const query = new URLSearchParams(location.search);
      if (query.has('exercise')) {
        query.delete('exercise');
        const rest = query.toString().replace(/=(&|$)/g, '$1');
        history.replaceState(null, '', `${location.pathname}${rest ? `?${rest}` : ''}${location.hash}`);
      }
      return;
    }
    const info = this.list.find((e) => e.name === ex.id);
    this.el.title.textContent = `Exercise: ${info?.title ?? s.name}`;
    this.el.task.textContent = ex.task || 'Reach the goal within the rules.';
    this.el.goal.textContent = info?.goal ?? JSON.stringify(ex.goal);
    // The posed faults: the built-in copy's, else the ones not injected by hand.
    let posed = null;
    try {
      if (info) posed = exerciseScenario(ex.id);
    } catch { /* a custom exercise */ }
    this.posedFaults = posed ? posed.faults ?? [] : (this.state.base?.faults ?? []).filter((f) => !f.injected);
    this.el.rules.textContent = this.rulesText(ex.rules ?? {});
    this.settings.fill(ex.rules?.settings ?? [], s);
    this.shownHints = 0;
    this.el.hints.replaceChildren();
    this.el.result.replaceChildren();
    this.el.result.className = 'exercise-result';
    delete this.el.result.dataset.headline;
    this.sayHint();
    this.sayBudget();
  }

  rulesText(rules) {
    const f = rules.faults ?? {};
    const parts = [];
    if (f.kinds) parts.push(`faults of kinds: ${f.kinds.join(', ').replaceAll('_', ' ')}`);
    if (f.nodes) parts.push(`on nodes ${f.nodes.join(', ')}`);
    const settings = rules.settings ?? [];
    parts.push(settings.length ? `you may change ${settings.join(', ')}` : 'no setting may change');
    parts.push(`judged up to t = ${formatMs(rules.time_limit_ms ?? 30000)}`);
    return `Rules: ${parts.join('; ')}.`;
  }

  sayBudget() {
    if (!this.exercise || !this.state.sim) return;
    const used = learnerFaults(this.posedFaults, this.state.sim.scenario().faults ?? []).length;
    const max = this.exercise.rules?.faults?.max;
    const el = this.el.budget;
    if (max == null) {
      el.textContent = `Faults used: ${used} (no limit).`;
    } else if (used <= max) {
      el.textContent = `Faults used: ${used} of ${max} — ${max - used} left.`;
    } else {
      el.textContent = `Faults used: ${used} of ${max} — ${used - max} over budget: Check will refuse this run.`;
    }
    el.classList.toggle('warn', max != null && used > max);
  }

  hint() {
    const hints = this.exercise?.hints ?? [];
    if (this.shownHints >= hints.length) return;
    const li = document.createElement('li');
    li.textContent = hints[this.shownHints];
    this.el.hints.append(li);
    this.shownHints += 1;
    this.sayHint();
  }

  sayHint() {
    const total = this.exercise?.hints?.length ?? 0;
    const left = total - this.shownHints;
    this.el.hint.disabled = left <= 0;
    this.el.hint.textContent = left > 0 ? `Show a hint (${this.shownHints + 1} of ${total})` : 'No more hints';
  }

  /** Restarts the recorded run (injections kept) from 0 with the learner's settings. */
  applySettings(edit, error) {
    if (error) return this.notify.error(error);
    const scenario = this.state.sim.scenario();
    edit(scenario);
    if (this.session.load(scenario)) this.notify.note('Running again from t = 0 with your settings; press Check when you are ready.');
  }

  /** Judges the recorded run in slices; the result says when the goal was met or what was not. */
  check() {
    if (!this.exercise || this.job) return;
    const end = () => {
      this.job = null;
      this.el.check.disabled = false;
    };
    try {
      this.job = judgeInSlices(this.state.sim.scenario(), {
        progress: (p) => { this.el.result.textContent = `Checking: replayed ${formatMs(p.now_ms)} of ${formatMs(p.end_ms)}…`; },
        done: (j) => { end(); this.show(j); },
        failed: (e) => { end(); if (!(e instanceof EngineDead)) this.show({ error: messageOf(e) }); },
      });
    } catch (e) {
      if (!(e instanceof EngineDead)) this.show({ error: messageOf(e) });
      return;
    }
    this.el.check.disabled = true;
    this.el.result.className = 'exercise-result';
    delete this.el.result.dataset.headline;
    this.el.result.textContent = 'Checking: replaying your run…';
  }

  cancel() {
    this.job?.();
    this.job = null;
    this.el.check.disabled = false;
  }

  show(j) {
    const el = this.el.result;
    el.replaceChildren();
    const head = document.createElement('p');
    head.className = 'headline';
    el.dataset.headline = j.error ? '' : j.headline;
    if (j.error) {
      el.className = 'exercise-result failed';
      head.textContent = `Cannot check this run: ${j.error}`;
      el.append(head);
      return;
    }
    el.className = `exercise-result ${j.met ? 'met' : 'failed'}`;
    head.textContent = headlineOf(j);
    el.append(head);
    const ul = document.createElement('ul');
    ul.className = 'small';
    for (const text of partsOf(j)) {
      const li = document.createElement('li');
      li.textContent = text;
      ul.append(li);
    }
    if (j.parts.length) el.append(ul);
    if (j.met) this.remember(j);
  }

  remember(j) {
    if (!this.list.some((e) => e.name === j.exercise)) return;
    const progress = loadProgress();
    progress[j.exercise] = { solved: true, met_at_ms: j.met_at_ms };
    try {
      localStorage.setItem(STORE, JSON.stringify(progress));
    } catch { /* storage off: progress is not kept */ }
  }

  resetProgress() {
    try {
      localStorage.removeItem(STORE);
    } catch { /* nothing kept */ }
    this.fillIndex();
    this.el.progress.textContent = 'Progress reset: no exercise is marked solved.';
  }

  showIndex() {
    this.fillIndex();
    this.el.dialog.showModal();
  }

  fillIndex() {
    const progress = loadProgress();
    const solved = this.list.filter((e) => progress[e.name]?.solved).length;
    this.el.progress.textContent = `Solved ${solved} of ${this.list.length}.`;
    this.el.list.replaceChildren(...this.list.map((e) => this.indexItem(e, progress[e.name]?.solved)));
  }

  indexItem(e, solved) {
    const li = document.createElement('li');
    li.dataset.exercise = e.name;
    const open = document.createElement('button');
    open.type = 'button';
    open.textContent = e.title;
    open.addEventListener('click', () => { this.el.dialog.close(); this.open(e.name); });
    const status = document.createElement('span');
    status.className = `status ${solved ? 'solved' : ''}`;
    status.textContent = solved ? '✓ solved' : 'not solved yet';
    const about = document.createElement('p');
    about.className = 'small muted';
    about.textContent = `${e.class} — ${e.task}`;
    li.append(open, ' ', status, about);
    return li;
  }
}
