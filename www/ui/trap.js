// The trap banner: when the engine traps (a panic, running out of memory) the page says
// what happened, with the engine's message, keeps a share link to the last good moment,
// and offers "Restart from here": a fresh engine replaying the recorded run to that moment.
import { formatMs } from '../format.js';

const WHAT = {
  panic: 'The simulation engine stopped on an internal error (a panic)',
  trap: 'The simulation engine stopped (a WebAssembly trap)',
};

export class TrapBanner {
  constructor({ root, state, session }) {
    this.el = root.querySelector('#trap');
    this.text = this.el.querySelector('.text');
    this.detail = this.el.querySelector('.detail');
    this.link = this.el.querySelector('a');
    this.restart = this.el.querySelector('.restart');
    this.restart.addEventListener('click', () => {
      this.el.hidden = true;
      session.restartFromHere();
    });
    state.on('trap', (detail) => this.show(detail));
    state.on('run', () => { this.el.hidden = true; });
  }

  show({ trap, good, link }) {
    const what = WHAT[trap.kind] ?? 'The simulation engine stopped';
    const where = good ? ` The run is kept up to its last good moment, t = ${formatMs(good.tMs)}.` : '';
    this.text.textContent = `${what}.${where}`;
    this.detail.textContent = trap.reload ? `${trap.message} — and a fresh engine could not load: ${trap.reload}` : trap.message;
    this.link.hidden = !link;
    if (link) this.link.href = `${location.pathname}${location.search}#${link}`;
    this.restart.disabled = Boolean(trap.reload);
    this.el.hidden = false;
    this.el.dataset.kind = trap.kind;
    this.restart.focus();
  }
}
