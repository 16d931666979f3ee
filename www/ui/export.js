// Export: the trace as JSON lines, the canvas as PNG, the CLI command that reproduces the
// run headless, and the embed code (an iframe and a <faultline-sim> element) for a course
// page. Every file is made in the page; nothing leaves the machine.
import { messageOf } from '../sim.js';
import { formatMs } from '../format.js';

/** Most trace lines a download holds (about 100 MB of text); longer runs are cut there. */
const MAX_TRACE_LINES = 1_000_000;

export class Export {
  /** canvas: the stage's canvas (for the PNG). */
  constructor({ root, state, notify, canvas }) {
    this.state = state;
    this.notify = notify;
    this.canvas = canvas;
    const $ = (sel) => root.querySelector(sel);
    this.menu = $('#export-menu');
    $('#export-trace').addEventListener('click', () => this.run(() => this.trace()));
    $('#export-shiviz').addEventListener('click', () => this.run(() => this.shiviz()));
    $('#export-png').addEventListener('click', () => this.run(() => this.png()));
    $('#export-cli').addEventListener('click', () => this.run(() => this.cli()));
    $('#export-embed').addEventListener('click', () => this.run(() => this.embed()));
    this.dialog = $('#embed-dialog');
    $('#embed-close').addEventListener('click', () => this.dialog.close());
    for (const b of this.dialog.querySelectorAll('[data-copy]')) {
      b.addEventListener('click', () => copy(this.dialog.querySelector(`#${b.dataset.copy}`).value, this.notify, 'Copied.'));
    }
  }

  run(action) {
    this.menu.open = false;
    try {
      if (this.state.sim) action();
    } catch (e) {
      this.notify.error(messageOf(e));
    }
  }

  baseName() {
    const s = this.state.sim.inspect();
    const name = (this.state.presetName ?? 'shared').replace(/[^a-z0-9-]+/gi, '-');
    // The engine epoch too: a picture or trace of epoch e1 is of that engine's run.
    return `faultline-${name}-seed${s.seed}-${Math.round(s.time_ms)}ms-e${this.state.sim.epoch}`;
  }

  trace() {
    this.notify.note(`Replaying the run from time 0 to ${formatMs(this.state.timeMs)} to write its trace…`);
    // Let the note paint before the replay blocks the page.
    requestAnimationFrame(() => setTimeout(() => {
      try {
        const text = this.state.sim.traceJsonl(MAX_TRACE_LINES);
        const lines = text.length ? text.split('\n').length - 1 : 0;
        download(new Blob([text], { type: 'application/x-ndjson' }), `${this.baseName()}.jsonl`);
        const cut = text.includes('"truncated":true') ? ` (cut at ${MAX_TRACE_LINES.toLocaleString('en')} events)` : '';
        this.notify.note(`Trace saved: ${lines.toLocaleString('en')} events${cut}, the same lines as faultline run --trace.`);
      } catch (e) {
        this.notify.error(messageOf(e));
      }
    }, 0));
  }

  /** The run as a ShiViz log: open it at the ShiViz site to explore it there. */
  shiviz() {
    this.notify.note(`Replaying the run from time 0 to ${formatMs(this.state.timeMs)} to write its ShiViz log…`);
    requestAnimationFrame(() => setTimeout(() => {
      try {
        const text = this.state.sim.shivizLog(MAX_TRACE_LINES);
        const events = text.split('\n').length - 3;
        download(new Blob([text], { type: 'text/plain' }), `${this.baseName()}.shiviz.log`);
        this.notify.note(`ShiViz log saved: ${events.toLocaleString('en')} events with their vector clocks; its first line is the parser regex ShiViz asks for.`);
      } catch (e) {
        this.notify.error(messageOf(e));
      }
    }, 0));
  }

  png() {
    this.canvas.toBlob((blob) => {
      if (!blob) return this.notify.error('The canvas could not be saved as a picture.');
      download(blob, `${this.baseName()}.png`);
      this.notify.note('Picture saved.');
    }, 'image/png');
  }

  cli() {
    const command = cliCommand(this.state.sim.shareLink());
    copy(command, this.notify, `Copied: ${command.slice(0, 60)}… — it prints the same trace hash as this page.`);
    return command;
  }

  /** The embed code; a comparison embeds both runs (`&vs=` in the frame's URL, the
   * element's `compare` attribute). */
  embed() {
    const link = this.state.sim.shareLink();
    const variant = this.state.variant?.sim.shareLink() ?? null;
    const base = new URL('.', location.href.split('#')[0].split('?')[0]).href;
    const title = this.state.sim.scenario().name;
    this.dialog.querySelector('#embed-iframe').value = iframeSnippet(base, variant ? `${link}&vs=${variant}` : link, title);
    this.dialog.querySelector('#embed-element').value = elementSnippet(base, link, variant);
    this.dialog.showModal();
  }
}

export function cliCommand(link) {
  return `faultline run --scenario-url '${link}' --trace-hash`;
}

export function iframeSnippet(base, link, title) {
  const safeTitle = title.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);
  return `<iframe src="${base}?embed#s=${link}" title="Faultline: ${safeTitle}" width="720" height="480" style="border:0" loading="lazy"></iframe>`;
}

export function elementSnippet(base, link, variant = null) {
  const compare = variant ? ` compare="${variant}"` : '';
  return `<script type="module" src="${base}www/embed/faultline-sim.js"></script>\n<faultline-sim scenario="${link}"${compare} speed="1" controls="minimal"></faultline-sim>`;
}

function download(blob, name) {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
}

function copy(text, notify, done) {
  if (navigator.clipboard?.writeText) {
    navigator.clipboard.writeText(text).then(() => notify.note(done), () => notify.note(`Copy this: ${text}`));
  } else {
    notify.note(`Copy this: ${text}`);
  }
}
