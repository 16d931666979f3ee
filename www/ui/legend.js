// The legend: each visual drawn by the same functions the renderer uses, with its meaning.
import { COLORS, FLAG, drawBurst, drawCut, drawMessage, drawNode } from '../render/canvas.js';

const base = { status: 0, flags: 0, suspectedBy: 0, group: 0, skewMs: 0, label: '3', partitioned: false };

const ENTRIES = [
  ['Running node', (c) => drawNode(c, 20, 16, 11, base)],
  ['Crashed: dark, with a cross', (c) => drawNode(c, 20, 16, 11, { ...base, status: 1 })],
  ['Paused (GC, VM): pale blue, clock badge', (c) => drawNode(c, 16, 18, 11, { ...base, status: 2 })],
  ['Suspected by others: dashed amber ring, ?count', (c) => drawNode(c, 24, 18, 10, { ...base, suspectedBy: 2 })],
  ['Gray: dimmed but green, dotted edge', (c) => drawNode(c, 20, 16, 11, { ...base, flags: FLAG.gray })],
  ['Byzantine: two-faced', (c) => drawNode(c, 20, 16, 11, { ...base, flags: FLAG.byzantine })],
  ['Slow: hourglass · omission: slashed circle', (c) => drawNode(c, 20, 12, 10, { ...base, flags: FLAG.slow | FLAG.omission })],
  ['Skewed clock: dial and offset', (c) => drawNode(c, 14, 14, 10, { ...base, flags: FLAG.clock, skewMs: -1500 })],
  ['Partition group: coloured rim', (c) => drawNode(c, 20, 16, 10, { ...base, partitioned: true, group: 1 })],
  ['Cut both ways: jagged mark', (c) => drawCut(c, 4, 16, 40, 16, false)],
  ['Cut one way: arrow with a bar', (c) => drawCut(c, 2, 16, 44, 16, true)],
  ['Heartbeat · request · answer', (c) => { drawMessage(c, 8, 16, 0, false); drawMessage(c, 20, 16, 1, false); drawMessage(c, 32, 16, 2, false); }],
  ['Byzantine message: purple ring', (c) => drawMessage(c, 20, 16, 0, true)],
  ['Dropped message: burst where it died', (c) => drawBurst(c, 20, 16, 0.3)],
];

export function drawLegend(list) {
  const dpr = window.devicePixelRatio || 1;
  list.replaceChildren(...ENTRIES.map(([label, draw]) => {
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
