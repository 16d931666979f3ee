// The epoch banner: a link made with an engine epoch this site does not ship. It says so
// plainly (the current engine may replay it differently) and replays it with the current
// engine only when asked.
import { epochLabel } from '../sim.js';

export class EpochBanner {
  constructor({ root, state }) {
    this.el = root.querySelector('#epoch-warning');
    this.button = this.el.querySelector('.replay');
    this.accept = null;
    this.button.addEventListener('click', () => {
      this.el.hidden = true;
      this.accept?.();
    });
    state.on('epoch', ({ shared, accept }) => this.show(shared, accept));
  }

  show(shared, accept) {
    this.accept = accept;
    this.el.querySelector('.text').textContent = `${shared.warning} Until you choose, the default scenario is shown.`;
    this.button.textContent = `Replay with engine ${epochLabel(shared.offer.epoch)}`;
    this.el.hidden = false;
  }
}
