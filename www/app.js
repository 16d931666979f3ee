// The playground page: importing this module starts it, and that is all it does. It loads
// the engine, composes the page — state and session (state.js, session.js), the stage and
// the UI modules, each handed only what it needs — and opens the run named by the URL.
// It exports nothing; UI modules never import it.
//
// `window.faultline` is a handle for tests and the console (the session's actions plus
// the views), not an API other modules use.
import { loadEngine, messageOf, presets } from './sim.js';
import { State } from './state.js';
import { Session } from './session.js';
import { Banners } from './ui/banners.js';
import { Progress } from './ui/progress.js';
import { Stage } from './ui/stage.js';
import { Controls } from './ui/controls.js';
import { Inspector } from './ui/inspector.js';
import { FaultPalette, NodeMenu } from './ui/faults.js';
import { Timeline } from './ui/timeline.js';
import { followRuns } from './ui/legend.js';
import { ChecksPanel } from './ui/checks.js';
import { Charts } from './ui/charts.js';
import { Export } from './ui/export.js';
import { Sweep } from './ui/sweep.js';
import { ShrinkView } from './ui/shrink.js';
import { TrapBanner } from './ui/trap.js';
import { TimingPanel } from './ui/timing.js';
import { PbftPanel } from './ui/pbft.js';
import { Budget } from './ui/budget.js';
import { EpochBanner } from './ui/epoch.js';
import { Announcer } from './ui/announce.js';
import { Diagram } from './ui/diagram.js';
import { ExercisePanel } from './ui/exercise.js';
import { HistoryView } from './ui/history.js';
import { ComparePanel } from './ui/compare.js';

async function start(root) {
  const notify = new Banners(root);
  try {
    await loadEngine();
  } catch (e) {
    notify.error(`The simulation engine could not load: ${messageOf(e)}`);
    return;
  }
  const state = new State();
  const session = new Session({ state, notify, progress: new Progress(root) });
  const views = compose(root, state, session, notify);
  // `?embed`: canvas and minimal controls only, sized to the frame, for course pages.
  if (new URLSearchParams(location.search).has('embed')) embedMode(root, state);
  window.addEventListener('hashchange', () => { session.openFromHash(); });
  window.faultline = testHandle(state, session, views);
  await session.openInitial();
  if (!location.hash.startsWith('#s=')) views.exercise.openFromQuery();
  views.stage.resize(); // after the first run filled the panels around the canvas
  document.body.dataset.ready = '1';
}

/** Builds the views; the order of subscriptions is the order they draw in a frame. */
function compose(root, state, session, notify) {
  const deps = { root, state, session, notify };
  const announcer = new Announcer(root.querySelector('#announcer'), root.querySelector('#stage-summary'));
  const stage = new Stage({ ...deps, announcer });
  const canvas = stage.renderer.canvas;
  // Compare mode: the variant on a second canvas, drawn by the same stage code.
  const variantStage = new Stage({ ...deps, announcer: null, canvas: root.querySelector('#stage-b'), simOf: (s) => s.variant?.sim });
  const views = {
    stage,
    variantStage,
    announcer,
    menu: new NodeMenu({ ...deps, canvas, positionOf: (id) => stage.nodeScreenPosition(id), announcer }),
    controls: new Controls({ ...deps, presetList: presets() }),
    timeline: new Timeline(deps),
    diagram: new Diagram(deps),
    history: new HistoryView(deps),
    inspector: new Inspector(deps),
    checks: new ChecksPanel(deps),
    charts: new Charts(deps),
    variantCharts: new Charts({ ...deps, el: root.querySelector('#charts-b'), simOf: (s) => s.variant?.sim }),
    compare: new ComparePanel({ ...deps, presetList: presets() }),
    palette: new FaultPalette(deps),
    exporter: new Export({ ...deps, canvas }),
    sweep: new Sweep({ root, showError: (m) => notify.error(m), scenario: () => state.sim.scenario() }),
    shrink: new ShrinkView(deps),
    timing: new TimingPanel(deps),
    pbft: new PbftPanel(deps),
    trap: new TrapBanner(deps),
    budget: new Budget(deps),
    epoch: new EpochBanner(deps),
    exercise: new ExercisePanel(deps),
  };
  followRuns(deps);
  return views;
}

/** In embed mode: the "Open in Faultline" link carries the run as it is when clicked. */
function embedMode(root, state) {
  document.body.classList.add('embed');
  const a = root.querySelector('#open-full');
  a.hidden = false;
  const refresh = () => { if (state.sim) a.href = `${location.pathname}#s=${state.sim.shareLink()}`; };
  a.addEventListener('pointerdown', refresh);
  a.addEventListener('focus', refresh);
  state.on('run', refresh);
}

/** What tests and the console reach: the session's actions and the views. */
function testHandle(state, session, views) {
  return {
    state, session, ...views,
    get sim() { return state.sim; },
    get variant() { return state.variant?.sim ?? null; },
    get timeMs() { return state.timeMs; },
    get selected() { return state.selected; },
    get playing() { return state.playing; },
    get effectiveSpeed() { return state.effectiveSpeed; },
    get presetList() { return views.controls.presetList; },
    renderer: views.stage.renderer,
    loadPreset: (name) => session.loadPreset(name),
    load: (scenario, options) => session.load(scenario, options),
    seek: (ms) => session.seek(ms),
    step: (ms) => session.step(ms),
    advanceTo: (ms) => session.advanceTo(ms),
    inject: (fault, durationMs) => session.inject(fault, durationMs),
    select: (id) => session.select(id),
    play: () => session.play(),
    pause: () => session.pause(),
    setSpeed: (speed) => session.setSpeed(speed),
    share: () => session.share(),
    render: () => session.frame(),
    nodeScreenPosition: (id) => views.stage.nodeScreenPosition(id),
    openExercise: (name) => views.exercise.open(name),
    compareWith: (scenario) => session.compareWith(scenario),
    compareWithPreset: (name) => {
      let error = null;
      const ok = views.compare.fromPreset(name, (m) => { error = m; });
      return { ok, error };
    },
    stopComparing: () => session.stopComparing(),
  };
}

start(document);
