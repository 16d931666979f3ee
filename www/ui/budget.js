// The memory budget: the setting (how many bytes time travel, traces and charts may keep)
// and the notice that says when it matters — memory used against the budget, and whether
// time travel had to become coarser or turn off for a run this large. The engine enforces
// the budget; this module shows its report (`memory()`) and passes the setting on.
import { formatBytes } from '../format.js';

const STORE_KEY = 'faultline.memoryBudgetMiB';
/** Refresh period of the notice while playing, ms. */
const UPDATE_MS = 1000;
/** The notice shows once use passes this share of the budget, or travel is degraded. */
const SHOW_AT = 0.5;

export class Budget {
  constructor({ root, state }) {
    this.state = state;
    this.note = root.querySelector('#memory-note');
    this.pick = root.querySelector('#memory-budget');
    this.last = 0;
    const stored = readStored();
    if ([...this.pick.options].some((o) => o.value === stored)) this.pick.value = stored;
    this.pick.addEventListener('change', () => {
      storeChoice(this.pick.value);
      this.apply();
      this.update();
    });
    state.on('run', () => { this.apply(); this.update(); });
    state.on('frame', ({ playing, travelling }) => {
      if ((!playing && !travelling) || performance.now() - this.last > UPDATE_MS) this.update();
    });
  }

  budgetBytes() { return Number(this.pick.value) * 2 ** 20; }

  apply() { this.state.sim?.setMemoryBudget(this.budgetBytes()); }

  update() {
    this.last = performance.now();
    const report = this.state.sim?.memory();
    if (!report) {
      this.note.hidden = true;
      return;
    }
    const travel = {
      full: '',
      coarse: ' · time travel is coarser for runs this large',
      off: ' · time travel off for runs this large',
    }[report.time_travel] ?? '';
    const show = travel !== '' || report.used_bytes > SHOW_AT * report.budget_bytes;
    this.note.hidden = !show;
    this.note.dataset.travel = report.time_travel;
    if (show) this.note.textContent = `memory ${formatBytes(report.used_bytes)} of ${formatBytes(report.budget_bytes)}${travel}`;
  }
}

function readStored() {
  try {
    return localStorage.getItem(STORE_KEY);
  } catch {
    return null;
  }
}

function storeChoice(value) {
  try {
    localStorage.setItem(STORE_KEY, value);
  } catch {
    // Private modes may refuse storage; the choice still holds for this page.
  }
}
