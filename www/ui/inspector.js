// The inspector panel: global counters and the selected node's state and local view of
// its peers. Text from the engine and the URL is set with textContent only.
import { formatMs } from '../format.js';
import { PhiChart } from './phichart.js';

/** Most peer rows shown for one node (large clusters say "and N more"). */
const MAX_PEER_ROWS = 50;
/** How often the panel refreshes while playing, ms. */
const UPDATE_MS = 100;

export class Inspector {
  constructor({ root, state, session }) {
    this.state = state;
    const $ = (sel) => root.querySelector(sel);
    this.el = {
      counters: $('#counters'), nodeSelect: $('#node-select'), node: $('#node-detail'),
      status: $('#node-status'), facts: $('#node-facts'), afflictions: $('#node-afflictions'),
      peers: $('#peer-rows'), peerNote: $('#peer-note'), peerHead: $('#peer-head'),
      seed: $('#seed-shown'), hash: $('#hash-shown'), log: $('#node-log'),
    };
    this.nodeCount = -1;
    this.phi = new PhiChart({ root, state });
    this.lastUpdate = 0;
    this.el.nodeSelect.addEventListener('change', () => {
      const v = this.el.nodeSelect.value;
      session.select(v === '' ? null : Number(v));
    });
    state.on('select', () => this.update());
    state.on('frame', ({ playing, travelling }) => {
      if ((!playing && !travelling) || performance.now() - this.lastUpdate > UPDATE_MS) this.update();
    });
  }

  syncNodeOptions(n) {
    if (n === this.nodeCount) return;
    this.nodeCount = n;
    const sel = this.el.nodeSelect;
    sel.replaceChildren(new Option('— pick a node —', ''));
    for (let i = 0; i < n; i++) sel.append(new Option(`node ${i}`, String(i)));
  }

  update() {
    this.lastUpdate = performance.now();
    const { state, el } = this;
    const snap = state.sim.inspect();
    this.syncNodeOptions(snap.nodes);
    const c = snap.counters;
    const d = c.dropped;
    const rows = [
      ['simulated time', formatMs(snap.time_ms)],
      ['events', snap.events.toLocaleString()],
      ['nodes', `${snap.nodes_up} up · ${snap.nodes_crashed} crashed · ${snap.nodes_paused} paused`],
      ['sent', c.sent.toLocaleString()],
      ['delivered', c.delivered.toLocaleString()],
      ['in flight', c.in_flight.toLocaleString()],
      ['duplicated', c.duplicated.toLocaleString()],
      ['dropped', `${d.total.toLocaleString()}`],
    ];
    for (const reason of ['loss', 'partition', 'cut', 'crashed', 'omission', 'gray', 'overflow']) {
      if (d[reason] > 0) rows.push([`  · ${reason}`, d[reason].toLocaleString()]);
    }
    if (snap.limits_hit > 0) rows.push(['limits hit', snap.limits_hit.toLocaleString()]);
    fillTable(el.counters, rows);
    el.seed.textContent = String(snap.seed);
    el.hash.textContent = snap.trace_hash;
    this.updateNode();
  }

  updateNode() {
    const { state, el } = this;
    const id = state.selected;
    el.nodeSelect.value = id === null ? '' : String(id);
    el.node.hidden = id === null;
    if (id === null) return;
    const v = state.sim.nodeView(id);
    this.phi.sample(v);
    el.status.textContent = v.status === 'paused' ? `paused until ${formatMs(v.paused_until_ms)}` : v.status;
    el.status.dataset.status = v.status;
    const facts = [
      ['incarnation', `${v.incarnation} (${v.restarts} restarts)`],
      ['local clock', formatMs(v.clock_ms) + skewText(v.clock_skew_ms)],
      ['sent / received', `${v.sent.toLocaleString()} / ${v.received.toLocaleString()}`],
    ];
    if (v.lamport !== undefined) facts.push(['causal clocks (true)', `Lamport ${v.lamport}${v.vector_clock ? ` · vector [${v.vector_clock.join(', ')}]` : ''}`]);
    if (v.drift_ppm) facts.push(['clock drift', `${v.drift_ppm.toLocaleString()} ppm`]);
    if (v.strobing) facts.push(['clock', 'strobing between two offsets']);
    const own = (v.facts ?? []).map((f) => [f.label, f.value]);
    fillTable(el.facts, [...own, ...facts]);
    this.updateLog(v.log ?? []);
    el.afflictions.replaceChildren(...[...v.afflictions, ...v.notes].map((t) => li(t)));
    this.updatePeers(v);
  }

  /** The node's log as cells: index, term and what it holds; committed ones filled. */
  updateLog(log) {
    const el = this.el.log;
    el.hidden = log.length === 0;
    el.replaceChildren(...log.map((e) => {
      const c = document.createElement('span');
      c.className = `cell${e.committed ? ' committed' : ''}`;
      c.title = `entry ${e.index}, term ${e.term}${e.committed ? ', committed' : ', not committed'}: ${e.text}`;
      const t = document.createElement('small');
      t.textContent = `${e.index}·T${e.term}`;
      c.append(t, document.createTextNode(e.text));
      return c;
    }));
  }

  updatePeers(v) {
    const { el } = this;
    const probes = v.peers.some((p) => p.probes_ok !== undefined);
    const phi = v.peers.some((p) => p.phi !== undefined);
    const heard = v.peers.some((p) => p.since_heard_ms !== null && p.since_heard_ms !== undefined);
    const claims = v.peers.some((p) => p.claims !== undefined);
    const claimWord = v.protocol === 'heartbeat' ? 'boot' : 'inc';
    const head = ['peer', 'view'];
    if (heard) head.push('last heard');
    if (claims) head.push(v.protocol === 'heartbeat' ? 'claims' : 'incarnation');
    if (phi) head.push('φ');
    if (probes) head.push('requests ok / failed');
    el.peerHead.replaceChildren(...(v.peers.length ? head.map((h) => cell('th', h)) : []));
    const shown = v.peers.slice(0, MAX_PEER_ROWS).map((p) => {
      const tr = document.createElement('tr');
      tr.dataset.state = p.state;
      if (phi) {
        tr.tabIndex = 0;
        tr.title = `Chart φ of n${p.id} over time`;
        tr.setAttribute('aria-selected', String(this.phi.pair?.[1] === p.id));
        const pick = () => { this.phi.follow(v.id, p.id); this.updateNode(); };
        tr.addEventListener('click', pick);
        tr.addEventListener('keydown', (ev) => { if (ev.key === 'Enter') pick(); });
      }
      const cells = [`n${p.id}`, p.state === 'alive' ? 'alive' : `⚠ ${p.state}`];
      if (heard) cells.push(p.since_heard_ms === null || p.since_heard_ms === undefined ? 'never' : `${formatMs(p.since_heard_ms)} ago`);
      if (claims) cells.push(p.claims === undefined ? '' : `${claimWord} ${p.claims}`);
      if (phi) cells.push(p.phi === undefined ? '' : p.phi >= 100 ? '≥ 100' : p.phi.toFixed(2));
      if (probes) cells.push(`${p.probes_ok} / ${p.probes_failed}`);
      tr.append(...cells.map((t) => cell('td', t)));
      return tr;
    });
    el.peers.replaceChildren(...shown);
    const more = v.peers.length - shown.length;
    el.peerNote.textContent = v.status === 'crashed'
      ? 'A crashed node has no view of its peers.'
      : more > 0 ? `… and ${more.toLocaleString()} more peers` : '';
  }
}

function skewText(skewMs) {
  if (!skewMs) return '';
  return ` (${skewMs > 0 ? '+' : '−'}${formatMs(Math.abs(skewMs))} off true time)`;
}

function fillTable(tbody, rows) {
  tbody.replaceChildren(...rows.map(([k, val]) => {
    const tr = document.createElement('tr');
    tr.append(cell('th', k), cell('td', val));
    return tr;
  }));
}

function cell(tag, text) {
  const el = document.createElement(tag);
  el.textContent = text;
  return el;
}

function li(text) {
  const el = document.createElement('li');
  el.textContent = text;
  return el;
}
