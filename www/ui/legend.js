// The legend: each visual drawn by the same functions the renderer uses, with its meaning.
import { FLAG, ROLE } from '../constants.js';
import { COLORS, drawBurst, drawCut, drawMessage, drawNode, drawShockwave, drawStages } from '../render/canvas.js';

const base = { status: 0, flags: 0, suspectedBy: 0, group: 0, skewMs: 0, label: '3', partitioned: false };

const ENTRIES = [
  ['Running node', (c) => drawNode(c, 20, 16, 11, base)],
  ['Crashed: dark, with a cross (small: a bare cross)', (c) => drawNode(c, 20, 16, 11, { ...base, status: 1 })],
  ['Paused (GC, VM): pale blue, clock badge (smaller: two bars; smallest: a hollow ring)', (c) => drawNode(c, 16, 18, 11, { ...base, status: 2 })],
  ['Suspected by others: dashed amber ring, ?count', (c) => drawNode(c, 24, 18, 10, { ...base, suspectedBy: 2 })],
  ['Gray: dimmed, dotted edge', (c) => drawNode(c, 20, 16, 11, { ...base, flags: FLAG.gray })],
  ['Byzantine: two-faced', (c) => drawNode(c, 20, 16, 11, { ...base, flags: FLAG.byzantine })],
  ['Slow: hourglass · omission: slashed circle', (c) => drawNode(c, 20, 12, 10, { ...base, flags: FLAG.slow | FLAG.omission })],
  ['Skewed clock: dial and offset', (c) => drawNode(c, 14, 14, 10, { ...base, flags: FLAG.clock, skewMs: -1500 })],
  ['Partition group: rim with its own colour and dashes', (c) => drawNode(c, 20, 16, 10, { ...base, partitioned: true, group: 1 })],
  ['Cut both ways: jagged mark', (c) => drawCut(c, 4, 16, 40, 16, false)],
  ['Cut one way: arrow with a bar', (c) => drawCut(c, 2, 16, 44, 16, true)],
  ['Byzantine message: violet ring', (c) => drawMessage(c, 20, 16, 0, true)],
  ['Dropped message: a cross where it died', (c) => drawBurst(c, 20, 16, 0.3)],
];

/** Drawn only for protocols whose nodes have these roles. */
const ROLE_ENTRIES = [
  [['leader'], 'Leader: crown with its term', (c) => drawNode(c, 12, 20, 8, { ...base, label: undefined, role: ROLE.leader, term: 3 })],
  [['leader'], 'Two leaders at once: doubled pink crowns, "split brain"', (c) => drawNode(c, 20, 20, 8, { ...base, label: undefined, role: ROLE.leader, splitBrain: true })],
  [['candidate'], 'Candidate: dotted ring', (c) => drawNode(c, 20, 16, 9, { ...base, label: undefined, role: ROLE.candidate })],
  [['follower', 'leader'], 'Log: committed filled, uncommitted hollow', (c) => drawNode(c, 24, 6, 10, { ...base, label: undefined, role: ROLE.follower, logLen: 4, commit: 2 })],
  [['client'], 'Client: square', (c) => drawNode(c, 20, 16, 10, { ...base, label: undefined, role: ROLE.client })],
  [['storage', 'backend'], 'Storage or database: cylinder', (c) => drawNode(c, 20, 16, 10, { ...base, label: undefined, role: ROLE.storage })],
  [['balancer'], 'Load balancer: diamond', (c) => drawNode(c, 20, 16, 10, { ...base, label: undefined, role: ROLE.balancer })],
  [['replica'], 'Load: ring filling clockwise · queue: bar', (c) => drawNode(c, 14, 16, 9, { ...base, label: undefined, role: ROLE.replica, load: 0.7, queue: 30 })],
  [['replica'], 'Just went down: red ring spreading; "out of memory" when it died of its load', (c) => { drawNode(c, 20, 16, 8, { ...base, label: undefined, status: 1 }); drawShockwave(c, 20, 16, 8, 0.35); }],
  [['balancer'], 'Breakers open at the balancer: box above', (c) => drawNode(c, 24, 26, 5, { ...base, label: undefined, role: ROLE.balancer, value: 1, valuePrefix: '' })],
  [['register', 'lockServer', 'client'], 'Value or lease token: box above', (c) => drawNode(c, 24, 26, 5, { ...base, label: undefined, role: ROLE.register, value: 7 })],
  [['follower', 'leader', 'register', 'lockServer', 'storage', 'replica', 'client', 'member'], 'A checker names it: dashed pink outline', (c) => drawNode(c, 20, 16, 8, { ...base, label: undefined, violating: true })],
];

/** Drawn only for protocols that send a message kind of these names. Request stages tick
 * in the colours of message kinds 1, 2, 3 (PBFT's pre-prepare yellow, prepare green, commit
 * orange: `kindColor`). */
const KIND_ENTRIES = [
  [['pre-prepare'], 'Request stages under a replica, newest right: 1 tick pre-prepared, 2 prepared, 3 committed; the ticks yellow, green and orange, as pre-prepare, prepare and commit messages', (c) => drawStages(c, 24, -12, 10, 0x1233, 40)],
];

/** Keeps the legend following the run: its protocol's roles and message kinds. */
export function followRuns({ root, state }) {
  const list = root.querySelector('#legend-list');
  state.on('run', () => {
    const roles = new Set(state.sim.columns().nodeRole);
    drawLegend(list, state.sim.messageKinds(), roles);
  });
}

/** Fills the legend for a run: `kinds` are its protocol's message kinds, `roles` the role
 * codes its nodes have. */
export function drawLegend(list, kinds = [], roles = new Set()) {
  const dpr = window.devicePixelRatio || 1;
  const messages = kinds.map(({ kind, name }) => [`Message: ${name}`, (c) => drawMessage(c, 20, 16, kind, false, 4)]);
  const roleEntries = ROLE_ENTRIES.filter(([rs]) => rs.some((r) => roles.has(ROLE[r]))).map(([, label, draw]) => [label, draw]);
  const names = new Set(kinds.map((k) => k.name));
  const kindEntries = KIND_ENTRIES.filter(([ns]) => ns.some((n) => names.has(n))).map(([, label, draw]) => [label, draw]);
  list.replaceChildren(...[...ENTRIES, ...roleEntries, ...kindEntries, ...messages].map(([label, draw]) => {
    const li = document.createElement('li');
    const canvas = document.createElement('canvas');
    canvas.width = 48 * dpr;
    canvas.height = 32 * dpr;
    canvas.style.width = '48px';
    canvas.style.height = '32px';
    canvas.setAttribute('aria-hidden', 'true');
    const ctx = canvas.getContext('2d');
    ctx.scale(dpr, dpr);
    ctx.fillStyle = COLORS.bg;
    ctx.fillRect(0, 0, 48, 32);
    draw(ctx);
    const span = document.createElement('span');
    span.textContent = label;
    li.append(canvas, span);
    return li;
  }));
}
