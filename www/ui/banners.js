// The banners under the toolbar: an error, a checker violation, a note (which hides itself
// after a while). Text only (textContent): messages may quote a URL or a scenario.

const NOTE_MS = 6000;

export class Banners {
  constructor(root) {
    this.root = root;
    this.noteTimer = null;
    for (const banner of root.querySelectorAll('.banner')) {
      banner.querySelector('.dismiss')?.addEventListener('click', () => { banner.hidden = true; });
    }
  }

  error(message) { this.show('error', message); }
  /** A checker's violation; `check` (its id) is what the banner's Shrink shrinks. */
  violation(message, check) {
    this.root.querySelector('#violation').dataset.check = check ?? '';
    this.show('violation', message);
  }
  note(message) { this.show('note', message); }
  hideNote() { this.root.querySelector('#note').hidden = true; }

  show(kind, message) {
    const el = this.root.querySelector(`#${kind}`);
    el.querySelector('.text').textContent = message;
    el.querySelector('.text').title = message;
    el.hidden = false;
    if (kind === 'note') {
      clearTimeout(this.noteTimer);
      this.noteTimer = setTimeout(() => { el.hidden = true; }, NOTE_MS);
    }
  }
}
