// The progress bar of long work (travel.js): what is running, how far it got, and Cancel.
// Shown only for work that lasts more than half a second.
import { formatMs } from '../format.js';

export class Progress {
  constructor(root) {
    this.el = root.querySelector('#progress');
    this.text = this.el.querySelector('.text');
    this.bar = this.el.querySelector('progress');
    this.cancelButton = this.el.querySelector('.cancel');
    this.onCancel = null;
    this.cancelButton.addEventListener('click', () => this.onCancel?.());
  }

  /** `label` says what runs; `fraction` in [0, 1]. */
  show(label, fraction, onCancel) {
    this.onCancel = onCancel;
    const pct = Math.floor(100 * Math.min(1, Math.max(0, fraction)));
    this.text.textContent = `${label} ${pct}%`;
    this.bar.value = fraction;
    if (this.el.hidden) {
      this.el.hidden = false;
      document.body.dataset.busy = '1';
    }
  }

  hide() {
    this.el.hidden = true;
    this.onCancel = null;
    delete document.body.dataset.busy;
  }
}

/** The label of a trip through simulated time. */
export const travelLabel = (toMs) => `Running the simulation to t = ${formatMs(toMs)}…`;
