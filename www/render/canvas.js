// Draws the cluster: nodes with their status and afflictions, links that are cut, messages
// in flight (interpolated between send and delivery at the current simulated time) and
// bursts where messages died. Every visual has a second cue besides colour (a shape, a
// mark or a label) and is explained in the legend, which draws with these same functions.
// The palette is chosen to stay apart under protanopia and deuteranopia (the a11y tests
// simulate both on `COLORS`); with `prefers-reduced-motion` messages stand still and
// bursts and shockwaves do not spread.
// Role, flag and message codes come from the engine (constants.js), never copied here.
import { ROLE, FLAG, MSG } from '../constants.js';

export const COLORS = {
  bg: '#0f1420',
  up: '#2bb673',
  crashed: '#3a3f4b',
  paused: '#9cc7ff',
  suspect: '#f5a524',
  byzantine: '#9b59ff',
  gray: '#8fa39a',
  cut: '#ff5ac8',
  text: '#e8ecf3',
  muted: '#8a93a6',
  heartbeat: '#cfe3ff',
  probe: '#ffd166',
  answer: '#7bdcb5',
  select: '#ffffff',
  leader: '#ffd24a',
  splitBrain: '#ff4fa0',
  candidate: '#ffe08a',
  violation: '#ff5ac8',
  committed: '#7bdcb5',
  uncommitted: '#51607a',
};

const GROUP_COLORS = ['#5aa9ff', '#ff8a5b', '#c49bff', '#5fd3c6', '#f2d15f', '#ff6fa8', '#9bd45a'];
/** Each partition group's rim also has its own dash pattern, so groups differ without colour. */
const GROUP_DASHES = [[], [7, 3], [2, 3], [9, 3, 2, 3], [4, 4], [1, 2], [12, 2, 2, 2, 2, 2]];
/** Below this radius a node is a bare glyph: crashed a cross, paused a hollow ring. */
const SMALL_R = 6;
/** The cross of a small crashed node. */
const CRASHED_GLYPH = '#8f96a3';

/** Roles `drawNode` draws as a bare circle: no crown, candidate ring or other outline. */
function plainRole(role) {
  return role !== ROLE.leader && role !== ROLE.candidate && role !== ROLE.client
    && role !== ROLE.balancer && role !== ROLE.storage && role !== ROLE.backend;
}

/** The outline of a node by role: clients are squares, the balancer a diamond, storage
 * and databases cylinders, the rest circles. */
function shapePath(ctx, x, y, r, role) {
  ctx.beginPath();
  if (role === ROLE.client) {
    const s = r * 0.8;
    ctx.roundRect ? ctx.roundRect(x - s, y - s, 2 * s, 2 * s, 3) : ctx.rect(x - s, y - s, 2 * s, 2 * s);
  } else if (role === ROLE.balancer) {
    ctx.moveTo(x, y - r * 1.15); ctx.lineTo(x + r * 1.15, y); ctx.lineTo(x, y + r * 1.15); ctx.lineTo(x - r * 1.15, y);
    ctx.closePath();
  } else if (role === ROLE.storage || role === ROLE.backend) {
    const w = r * 0.95, h = r * 1.05, e = r * 0.3;
    ctx.moveTo(x - w, y - h + e);
    ctx.ellipse(x, y - h + e, w, e, 0, Math.PI, 0);
    ctx.lineTo(x + w, y + h - e);
    ctx.ellipse(x, y + h - e, w, e, 0, 0, Math.PI);
    ctx.closePath();
  } else {
    ctx.arc(x, y, r, 0, Math.PI * 2);
  }
}

/** One node glyph. `n` = { status, flags, suspectedBy, group, skewMs, pausedLeftMs,
 * selected, label, partitioned, role, term, load, queue, logLen, commit, stages, value,
 * splitBrain, violating, badgeWidth (room for badges under the node, px) }. */
export function drawNode(ctx, x, y, r, n) {
  const crashed = n.status === 1;
  const paused = n.status === 2;
  const gray = (n.flags & FLAG.gray) !== 0;
  ctx.save();
  if (n.partitioned) {
    // Thinner on small nodes, so a thousand rims do not bury the nodes.
    ctx.beginPath();
    ctx.arc(x, y, r + (r < SMALL_R ? 2.5 : 4), 0, Math.PI * 2);
    ctx.strokeStyle = GROUP_COLORS[n.group % GROUP_COLORS.length];
    ctx.setLineDash(GROUP_DASHES[n.group % GROUP_DASHES.length]);
    ctx.lineWidth = r < SMALL_R ? 1.5 : 3;
    ctx.stroke();
    ctx.setLineDash([]);
  }
  const role = n.role ?? 0;
  if (r < SMALL_R && (crashed || paused)) {
    drawSmallState(ctx, x, y, r, crashed);
    ctx.restore();
    return;
  }
  shapePath(ctx, x, y, r, role);
  ctx.fillStyle = crashed ? COLORS.crashed : paused ? COLORS.paused : COLORS.up;
  ctx.globalAlpha = gray && !crashed ? 0.45 : 1;
  ctx.fill();
  if (paused && r < 10) drawPauseBars(ctx, x, y, r);
  if (role === ROLE.storage || role === ROLE.backend) {
    ctx.beginPath();
    ctx.ellipse(x, y - r * 1.05 + r * 0.3, r * 0.95, r * 0.3, 0, 0, Math.PI);
    ctx.strokeStyle = 'rgba(0,0,0,0.35)';
    ctx.lineWidth = 1.2;
    ctx.stroke();
  }
  ctx.globalAlpha = 1;
  if (gray && !crashed) {
    ctx.setLineDash([2, 3]);
    ctx.strokeStyle = COLORS.gray;
    ctx.lineWidth = 2;
    ctx.stroke();
    ctx.setLineDash([]);
  }
  if (n.flags & FLAG.byzantine) {
    // Two-faced: the right half in the Byzantine colour, split by a zig-zag.
    ctx.beginPath();
    ctx.arc(x, y, r, -Math.PI / 2, Math.PI / 2);
    ctx.closePath();
    ctx.fillStyle = COLORS.byzantine;
    ctx.fill();
    ctx.beginPath();
    for (let i = 0; i <= 4; i++) ctx.lineTo(x + (i % 2 ? 2 : -2), y - r + (i * r) / 2);
    ctx.strokeStyle = COLORS.bg;
    ctx.lineWidth = 1.5;
    ctx.stroke();
  }
  if (crashed) {
    const k = r * 0.5;
    ctx.strokeStyle = '#c7ccd6';
    ctx.lineWidth = Math.max(1.5, r / 8);
    ctx.beginPath();
    ctx.moveTo(x - k, y - k); ctx.lineTo(x + k, y + k);
    ctx.moveTo(x + k, y - k); ctx.lineTo(x - k, y + k);
    ctx.stroke();
  }
  if (n.suspectedBy > 0 && !crashed && r >= 6) {
    ctx.beginPath();
    ctx.arc(x, y, r + (n.partitioned ? 9 : 5), 0, Math.PI * 2);
    ctx.setLineDash([4, 3]);
    ctx.strokeStyle = COLORS.suspect;
    ctx.lineWidth = 2;
    ctx.stroke();
    ctx.setLineDash([]);
  } else if (n.suspectedBy > 0 && !crashed) {
    ctx.strokeStyle = COLORS.suspect;
    ctx.lineWidth = 1.5;
    ctx.strokeRect(x - r - 1.5, y - r - 1.5, 2 * r + 3, 2 * r + 3);
  }
  if (n.selected) {
    ctx.beginPath();
    ctx.arc(x, y, r + 12, 0, Math.PI * 2);
    ctx.strokeStyle = COLORS.select;
    ctx.lineWidth = 2;
    ctx.stroke();
  }
  if (n.load !== undefined && n.load >= 0 && !crashed) drawLoadRing(ctx, x, y, r, n.load);
  if (n.violating) {
    shapePath(ctx, x, y, r + 7, role);
    ctx.strokeStyle = COLORS.violation;
    ctx.lineWidth = 3;
    ctx.setLineDash([7, 4]);
    ctx.stroke();
    ctx.setLineDash([]);
  }
  if (role === ROLE.leader && !crashed) drawCrown(ctx, x, y - r - Math.max(4, r * 0.35), Math.max(5, r * 0.55), n.splitBrain, n.term, r >= 10);
  else if (role === ROLE.candidate && !crashed && r >= 6) {
    ctx.beginPath();
    ctx.arc(x, y, r + 4, 0, Math.PI * 2);
    ctx.strokeStyle = COLORS.candidate;
    ctx.setLineDash([2, 4]);
    ctx.lineWidth = 2;
    ctx.stroke();
    ctx.setLineDash([]);
  }
  if (r >= 10) drawBadges(ctx, x, y, r, n);
  ctx.restore();
}

/** A crashed or paused node too small for badges: crashed a cross with no body, paused a
 * hollow ring, so neither depends on its colour. */
function drawSmallState(ctx, x, y, r, crashed) {
  ctx.beginPath();
  if (crashed) {
    const k = r + 0.5;
    ctx.moveTo(x - k, y - k); ctx.lineTo(x + k, y + k);
    ctx.moveTo(x + k, y - k); ctx.lineTo(x - k, y + k);
    ctx.strokeStyle = CRASHED_GLYPH;
  } else {
    ctx.arc(x, y, r, 0, Math.PI * 2);
    ctx.strokeStyle = COLORS.paused;
  }
  ctx.lineWidth = 1.5;
  ctx.stroke();
}

/** Paused, on a node too small for the clock badge: two bars, as on a pause button. */
function drawPauseBars(ctx, x, y, r) {
  const w = Math.max(1.5, r * 0.22), h = r * 0.9;
  ctx.fillStyle = '#1a2a44';
  ctx.fillRect(x - w * 1.6, y - h / 2, w, h);
  ctx.fillRect(x + w * 0.6, y - h / 2, w, h);
}

/** A leader's crown with its term; in split brain (another leader exists) the crown is
 * doubled, in the split-brain colour, and labelled when there is room. */
function drawCrown(ctx, x, y, s, split, term, withTerm) {
  if (split) {
    ctx.save();
    ctx.translate(-s * 0.7, -s * 0.45);
    crownPath(ctx, x, y, s);
    ctx.strokeStyle = COLORS.splitBrain;
    ctx.lineWidth = 1.5;
    ctx.stroke();
    ctx.restore();
  }
  crownPath(ctx, x, y, s);
  ctx.fillStyle = split ? COLORS.splitBrain : COLORS.leader;
  ctx.fill();
  if (withTerm && term !== undefined) {
    ctx.font = `bold ${Math.max(10, Math.round(s * 1.3))}px system-ui, sans-serif`;
    ctx.textAlign = 'left';
    ctx.textBaseline = 'middle';
    ctx.fillStyle = split ? COLORS.splitBrain : COLORS.leader;
    ctx.fillText(`T${term}${split ? ' split brain' : ''}`, x + s + 3, y);
  }
}

function crownPath(ctx, x, y, s) {
  ctx.beginPath();
  ctx.moveTo(x - s, y + s * 0.5);
  ctx.lineTo(x - s, y - s * 0.5);
  ctx.lineTo(x - s * 0.5, y);
  ctx.lineTo(x, y - s * 0.8);
  ctx.lineTo(x + s * 0.5, y);
  ctx.lineTo(x + s, y - s * 0.5);
  ctx.lineTo(x + s, y + s * 0.5);
  ctx.closePath();
}

/** Load as a ring filling clockwise from the top, green to red. */
function drawLoadRing(ctx, x, y, r, load) {
  const f = Math.min(1, load);
  ctx.beginPath();
  ctx.arc(x, y, r + 3.5, 0, Math.PI * 2);
  ctx.strokeStyle = 'rgba(255,255,255,0.12)';
  ctx.lineWidth = 3;
  ctx.stroke();
  if (f <= 0) return;
  ctx.beginPath();
  ctx.arc(x, y, r + 3.5, -Math.PI / 2, -Math.PI / 2 + f * Math.PI * 2);
  ctx.strokeStyle = f < 0.6 ? '#5fd38a' : f < 0.9 ? '#f5a524' : '#ff5c5c';
  ctx.stroke();
}

/** A queue as a bar beside the node (full at `cap`), with its length. */
function drawQueue(ctx, x, y, r, queue) {
  const cap = 50;
  const h = r * 2, w = Math.max(4, r * 0.3);
  const bx = x + r + 8, by = y - r;
  ctx.strokeStyle = '#51607a';
  ctx.lineWidth = 1;
  ctx.strokeRect(bx, by, w, h);
  const f = Math.min(1, queue / cap);
  ctx.fillStyle = f < 0.5 ? '#5aa9ff' : f < 0.9 ? '#f5a524' : '#ff5c5c';
  ctx.fillRect(bx, by + h * (1 - f), w, h * f);
  ctx.font = `${Math.max(9, Math.round(r * 0.6))}px system-ui, sans-serif`;
  ctx.textAlign = 'left';
  ctx.textBaseline = 'middle';
  ctx.fillStyle = COLORS.text;
  ctx.fillText(String(queue), bx + w + 3, by + h * (1 - f));
}

/** Where the log strip's cells sit under a node of radius `r`: their size and top edge. */
function logRow(y, r) {
  return { cell: Math.max(5, r * 0.45), top: y + r + (r >= 14 ? 20 : 12) };
}

/** The log as a strip of cells under the node: committed filled, uncommitted hollow. At
 * most ten cells, fewer when `width` (the room between neighbours, px) is narrower; the
 * length is printed beside a strip that shows only its tail, when there is room. */
function drawLog(ctx, x, y, r, len, commit, width = Infinity) {
  const { cell, top: cy } = logRow(y, r);
  const gap = 1.5;
  const fits = Math.max(3, Math.floor((width + gap) / (cell + gap)));
  const max = Math.min(10, fits);
  const shown = Math.min(len, max);
  const first = len - shown;
  const total = shown * (cell + gap) - gap;
  let cx = x - total / 2;
  for (let i = first; i < len; i++) {
    if (i < commit) {
      ctx.fillStyle = COLORS.committed;
      ctx.fillRect(cx, cy, cell, cell);
    } else {
      ctx.strokeStyle = COLORS.muted;
      ctx.lineWidth = 1;
      ctx.strokeRect(cx + 0.5, cy + 0.5, cell - 1, cell - 1);
    }
    cx += cell + gap;
  }
  if (first === 0 || fits < 10) return; // no tail to speak of, or no room for the number
  ctx.font = `${Math.max(9, Math.round(cell * 1.2))}px system-ui, sans-serif`;
  ctx.textAlign = 'left';
  ctx.textBaseline = 'top';
  ctx.fillStyle = COLORS.muted;
  ctx.fillText(`${len}`, cx + 2, cy - 1);
}

/** The colour of message kind `kind`, as `drawMessage` fills it. */
export function kindColor(kind) {
  if (kind >= 3) return KIND_COLORS[(kind - 3) % KIND_COLORS.length];
  return [COLORS.heartbeat, COLORS.probe, COLORS.answer][kind];
}

/** The stages of a node's newest requests (`stages`: 4-bit levels, oldest in the low bits,
 * see `pack_stages` in src/view.rs), one column each under the log strip, newest on the
 * right: level k is k stacked ticks, tick j in the colour of message kind j (PBFT: one
 * tick pre-prepared, two prepared, three committed). Fewer columns when `width` is narrow. */
export function drawStages(ctx, x, y, r, stages, width = Infinity) {
  const levels = [];
  for (let s = stages >>> 0; s !== 0; s >>>= 4) levels.push(s & 15);
  const { cell, top } = logRow(y, r);
  const gap = 1.5, tick = 3, tickGap = 1;
  const shown = levels.slice(-Math.max(3, Math.floor((width + gap) / (cell + gap))));
  let cx = x - (shown.length * (cell + gap) - gap) / 2;
  const base = top + cell + 4 + 3 * (tick + tickGap);
  for (const level of shown) {
    for (let j = 1; j <= Math.min(level, 3); j++) {
      ctx.fillStyle = kindColor(j);
      ctx.fillRect(cx, base - j * (tick + tickGap), cell, tick);
    }
    cx += cell + gap;
  }
}

/** A value beside the node (a register value, a lease token), in a small box. */
function drawValue(ctx, x, y, r, value, prefix = 'v=') {
  const text = `${prefix}${value}`;
  ctx.font = `bold ${Math.max(10, Math.round(r * 0.65))}px ui-monospace, monospace`;
  const w = ctx.measureText(text).width + 8, h = Math.max(14, r * 0.9);
  const bx = x - w / 2, by = y - r - h - 6;
  ctx.fillStyle = '#1c2436';
  ctx.fillRect(bx, by, w, h);
  ctx.strokeStyle = '#51607a';
  ctx.strokeRect(bx + 0.5, by + 0.5, w - 1, h - 1);
  ctx.fillStyle = COLORS.text;
  ctx.textAlign = 'center';
  ctx.textBaseline = 'middle';
  ctx.fillText(text, x, by + h / 2 + 1);
}

function drawBadges(ctx, x, y, r, n) {
  const crashed = n.status === 1;
  if (n.queue > 0 && !crashed) drawQueue(ctx, x, y, r, n.queue);
  if (n.logLen > 0) drawLog(ctx, x, y, r, n.logLen, n.commit, n.badgeWidth);
  if (n.stages) drawStages(ctx, x, y, r, n.stages, n.badgeWidth);
  if (n.value !== undefined && !Number.isNaN(n.value) && !crashed && n.role !== ROLE.leader) drawValue(ctx, x, y, r, n.value, n.valuePrefix);
  if (n.role === ROLE.follower && n.term > 0 && !crashed) {
    ctx.font = `${Math.round(r * 0.6)}px system-ui, sans-serif`;
    ctx.fillStyle = COLORS.muted;
    ctx.textAlign = 'center';
    ctx.textBaseline = 'bottom';
    ctx.fillText(`T${n.term}`, x, y - r - 3);
  }
  ctx.font = `${Math.round(r * 0.8)}px system-ui, sans-serif`;
  ctx.textAlign = 'center';
  ctx.textBaseline = 'middle';
  if (n.label !== undefined && n.status !== 1) {
    ctx.fillStyle = n.status === 2 ? '#0f1420' : '#0b2a1b';
    ctx.fillText(n.label, x - ((n.flags & FLAG.byzantine) ? r * 0.35 : 0), y + 1);
  }
  if (n.status === 2) drawClock(ctx, x + r * 0.9, y - r * 0.9, r * 0.45, n.pausedLeftMs);
  if (n.suspectedBy > 0 && n.status !== 1) {
    ctx.font = `bold ${Math.round(r * 0.6)}px system-ui, sans-serif`;
    ctx.fillStyle = COLORS.suspect;
    ctx.fillText(`?${n.suspectedBy}`, x - r - 6, y - r - 2);
  }
  let bx = x - (((n.flags & FLAG.slow) && (n.flags & FLAG.omission)) ? r * 0.45 : 0);
  if (n.flags & FLAG.slow) { drawHourglass(ctx, bx, y + r + r * 0.6, r * 0.38); bx += r * 0.9; }
  if (n.flags & FLAG.omission) drawNoEntry(ctx, bx, y + r + r * 0.6, r * 0.36);
  if (n.flags & (FLAG.clock | FLAG.strobe)) drawDial(ctx, x + r * 1.05, y + r * 0.75, r * 0.42, n.skewMs, n.flags & FLAG.strobe);
  if (crashed && (n.flags & FLAG.selfCrashed)) {
    // Died of its own load, not of an injected fault.
    ctx.font = `bold ${Math.max(9, Math.round(r * 0.55))}px system-ui, sans-serif`;
    ctx.fillStyle = '#ff6b6b';
    ctx.textAlign = 'center';
    ctx.textBaseline = 'top';
    ctx.fillText('out of memory', x, y + r + 4);
  }
}

/** A node that just went down: a red ring spreading out and fading (`age` 0 … 1). */
export function drawShockwave(ctx, x, y, r, age) {
  ctx.save();
  ctx.globalAlpha = 1 - age;
  ctx.strokeStyle = '#ff6b6b';
  ctx.lineWidth = 3 * (1 - age) + 1;
  ctx.beginPath();
  ctx.arc(x, y, r * (1.1 + 2.2 * age), 0, Math.PI * 2);
  ctx.stroke();
  ctx.restore();
}

/** Slow: an hourglass. */
function drawHourglass(ctx, x, y, s) {
  ctx.beginPath();
  ctx.moveTo(x - s, y - s); ctx.lineTo(x + s, y - s); ctx.lineTo(x - s, y + s); ctx.lineTo(x + s, y + s);
  ctx.closePath();
  ctx.fillStyle = '#ffd98a';
  ctx.fill();
}

/** Omission: a circle with a slash (messages vanish here). */
function drawNoEntry(ctx, x, y, s) {
  ctx.beginPath();
  ctx.arc(x, y, s, 0, Math.PI * 2);
  ctx.moveTo(x - s * 0.7, y + s * 0.7); ctx.lineTo(x + s * 0.7, y - s * 0.7);
  ctx.strokeStyle = '#ff9b9b';
  ctx.lineWidth = 1.6;
  ctx.stroke();
}

/** A paused process: a small clock face with the time left. */
function drawClock(ctx, x, y, r, leftMs) {
  ctx.beginPath();
  ctx.arc(x, y, r, 0, Math.PI * 2);
  ctx.fillStyle = '#e8f1ff';
  ctx.fill();
  ctx.strokeStyle = '#2a4a7a';
  ctx.lineWidth = 1.5;
  ctx.stroke();
  ctx.beginPath();
  ctx.moveTo(x, y); ctx.lineTo(x, y - r * 0.7);
  ctx.moveTo(x, y); ctx.lineTo(x + r * 0.5, y);
  ctx.stroke();
  if (leftMs !== undefined && leftMs > 0) {
    ctx.font = `${Math.max(9, Math.round(r * 1.1))}px system-ui, sans-serif`;
    ctx.fillStyle = COLORS.paused;
    ctx.textAlign = 'left';
    ctx.fillText(`${(leftMs / 1000).toFixed(1)} s`, x + r + 3, y);
  }
}

/** A skewed clock: a dial whose hand leans by the skew, with the skew written beside it. */
function drawDial(ctx, x, y, r, skewMs, strobing) {
  ctx.beginPath();
  ctx.arc(x, y, r, 0, Math.PI * 2);
  ctx.fillStyle = strobing ? '#ffe7a3' : '#fff3d6';
  ctx.fill();
  ctx.strokeStyle = '#7a5a12';
  ctx.lineWidth = 1.2;
  ctx.stroke();
  const angle = Math.max(-1, Math.min(1, skewMs / 2000)) * (Math.PI * 0.9);
  ctx.beginPath();
  ctx.moveTo(x, y);
  ctx.lineTo(x + Math.sin(angle) * r * 0.85, y - Math.cos(angle) * r * 0.85);
  ctx.strokeStyle = '#c0392b';
  ctx.lineWidth = 1.5;
  ctx.stroke();
  const sign = skewMs > 0 ? '+' : skewMs < 0 ? '−' : '±';
  ctx.font = `${Math.max(9, Math.round(r * 1.1))}px system-ui, sans-serif`;
  ctx.fillStyle = '#ffd98a';
  ctx.textAlign = 'left';
  ctx.fillText(`${sign}${Math.abs(skewMs / 1000).toFixed(1)} s${strobing ? ' (strobe)' : ''}`, x + r + 3, y);
}

/** A blocked link: a jagged cut across a faint line (both ways), or a one-way arrow with
 * a bar where it is cut. */
export function drawCut(ctx, ax, ay, bx, by, oneWay) {
  ctx.save();
  ctx.strokeStyle = 'rgba(255,92,92,0.28)';
  ctx.lineWidth = 1;
  ctx.beginPath();
  ctx.moveTo(ax, ay); ctx.lineTo(bx, by);
  ctx.stroke();
  const mx = (ax + bx) / 2, my = (ay + by) / 2;
  const len = Math.hypot(bx - ax, by - ay) || 1;
  const ux = (bx - ax) / len, uy = (by - ay) / len;
  const px = -uy, py = ux;
  ctx.strokeStyle = COLORS.cut;
  ctx.lineWidth = 2;
  if (oneWay) {
    // Arrow head near b, with a bar across the shaft just before it.
    const hx = bx - ux * 22, hy = by - uy * 22;
    ctx.beginPath();
    ctx.moveTo(hx, hy);
    ctx.lineTo(hx - ux * 9 + px * 5, hy - uy * 9 + py * 5);
    ctx.moveTo(hx, hy);
    ctx.lineTo(hx - ux * 9 - px * 5, hy - uy * 9 - py * 5);
    const cx = hx - ux * 16, cy = hy - uy * 16;
    ctx.moveTo(cx + px * 7, cy + py * 7);
    ctx.lineTo(cx - px * 7, cy - py * 7);
    ctx.stroke();
  } else {
    ctx.beginPath();
    for (let i = -3; i <= 3; i++) {
      const s = i % 2 === 0 ? 6 : -6;
      ctx.lineTo(mx + ux * i * 3 + px * s, my + uy * i * 3 + py * s);
    }
    ctx.stroke();
  }
  ctx.restore();
}

/** Colours of message kinds 3 and up (protocols name them in the legend). */
export const KIND_COLORS = ['#ff9f5a', '#7bdcb5', '#5aa9ff', '#ffd166', '#c49bff', '#ff6fa8', '#9bd45a', '#5fd3c6', '#f2d15f', '#ff8a5b'];

/** A message in flight. Shape tells the kind: heartbeat dot, probe square, answer diamond;
 * other protocols' kinds are coloured, and each request/reply pair (kinds 3–4, 5–6, …) has
 * its own shape — triangle, triangle down, plus, bar, then the same in a thin ring — with a dark
 * core on the request (odd kind), so kinds differ without colour; a Byzantine message gets
 * a violet ring. */
export function drawMessage(ctx, x, y, kind, byzantine, size = 3) {
  ctx.beginPath();
  messageShape(ctx, x, y, kind, size);
  ctx.fillStyle = kindColor(kind);
  ctx.fill();
  if (kind >= 3 && size >= 2.5) {
    if (Math.floor((kind - 3) / 2) % 8 >= 4) {
      // Pairs past the fourth: the same four shapes, each inside a thin ring.
      ctx.beginPath();
      ctx.arc(x, y, size * 1.25 + 3, 0, Math.PI * 2);
      ctx.strokeStyle = kindColor(kind);
      ctx.lineWidth = 1;
      ctx.stroke();
    }
    if (kind % 2 === 1) {
      ctx.beginPath();
      ctx.arc(x, y, size * 0.55, 0, Math.PI * 2);
      ctx.fillStyle = COLORS.bg;
      ctx.fill();
    }
  }
  if (byzantine) {
    ctx.beginPath();
    ctx.arc(x, y, size + 3, 0, Math.PI * 2);
    ctx.strokeStyle = COLORS.byzantine;
    ctx.lineWidth = 1.5;
    ctx.stroke();
  }
}

/** The outline of a protocol's message, unlike the heartbeat family's dot, square and
 * diamond: 0 triangle, 1 triangle pointing down, 2 plus, 3 wide bar. */
function kindShape(ctx, x, y, s, shape) {
  if (shape === 0) {
    ctx.moveTo(x, y - s * 1.3); ctx.lineTo(x + s * 1.2, y + s * 0.9); ctx.lineTo(x - s * 1.2, y + s * 0.9);
  } else if (shape === 1) {
    ctx.moveTo(x, y + s * 1.3); ctx.lineTo(x + s * 1.2, y - s * 0.9); ctx.lineTo(x - s * 1.2, y - s * 0.9);
  } else if (shape === 2) {
    const a = s * 1.25, b = s * 0.5;
    ctx.moveTo(x - b, y - a); ctx.lineTo(x + b, y - a); ctx.lineTo(x + b, y - b); ctx.lineTo(x + a, y - b);
    ctx.lineTo(x + a, y + b); ctx.lineTo(x + b, y + b); ctx.lineTo(x + b, y + a); ctx.lineTo(x - b, y + a);
    ctx.lineTo(x - b, y + b); ctx.lineTo(x - a, y + b); ctx.lineTo(x - a, y - b); ctx.lineTo(x - b, y - b);
  } else {
    ctx.rect(x - s * 1.4, y - s * 0.6, s * 2.8, s * 1.2);
  }
  ctx.closePath();
}

/** Adds message kind `kind`'s outline at (x, y) to the current path, as `drawMessage`
 * draws it (its own subpaths: many messages can share one path and one fill). */
function messageShape(ctx, x, y, kind, size) {
  if (kind >= 3) {
    kindShape(ctx, x, y, size + 0.5, Math.floor((kind - 3) / 2) % 4);
  } else if (kind === 1) {
    ctx.rect(x - size, y - size, 2 * size, 2 * size);
  } else if (kind === 2) {
    ctx.moveTo(x, y - size - 1); ctx.lineTo(x + size + 1, y); ctx.lineTo(x, y + size + 1); ctx.lineTo(x - size - 1, y);
    ctx.closePath();
  } else {
    ctx.moveTo(x + size, y);
    ctx.arc(x, y, size, 0, Math.PI * 2);
  }
}

/** Where a message died: a red cross in an expanding, fading ring. `age` in 0…1. */
export function drawBurst(ctx, x, y, age) {
  ctx.save();
  ctx.globalAlpha = 1 - age;
  ctx.strokeStyle = COLORS.cut;
  ctx.lineWidth = 1.5;
  ctx.beginPath();
  ctx.arc(x, y, 3 + 9 * age, 0, Math.PI * 2);
  ctx.stroke();
  ctx.beginPath();
  ctx.moveTo(x - 3, y - 3); ctx.lineTo(x + 3, y + 3);
  ctx.moveTo(x + 3, y - 3); ctx.lineTo(x - 3, y + 3);
  ctx.stroke();
  ctx.restore();
}

/** With reduced motion: where a message in flight is drawn along its link, and the one
 * moment at which bursts and shockwaves are drawn for as long as they last. */
const STILL_FRACTION = 0.3;
const STILL_AGE = 0.2;

/** The cluster renderer for one canvas. */
export class Renderer {
  constructor(canvas) {
    this.canvas = canvas;
    this.ctx = canvas.getContext('2d');
    this.positions = new Float32Array(0);
    this.radius = 16;
    this.maxDots = 4000;
    this.lastDrawn = { msgs: 0, shown: 0 };
    // Reduced motion: messages are drawn still (a third of the way along their link, so the
    // direction shows) and bursts and shockwaves keep one size instead of spreading.
    const motion = window.matchMedia?.('(prefers-reduced-motion: reduce)');
    this.reducedMotion = motion?.matches ?? false;
    motion?.addEventListener?.('change', (ev) => { this.reducedMotion = ev.matches; });
  }

  resize() {
    const dpr = window.devicePixelRatio || 1;
    const rect = this.canvas.getBoundingClientRect();
    this.width = Math.max(1, rect.width);
    this.height = Math.max(1, rect.height);
    this.canvas.width = Math.round(this.width * dpr);
    this.canvas.height = Math.round(this.height * dpr);
    this.ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  }

  /** Maps the engine's layout ([-1, 1]²) to canvas pixels. */
  layout(cols) {
    const n = cols.nodes;
    if (this.positions.length !== 2 * n) this.positions = new Float32Array(2 * n);
    const scale = Math.min(this.width, this.height) / 2 - (n > 64 ? 14 : 48);
    const cx = this.width / 2, cy = this.height / 2;
    for (let i = 0; i < n; i++) {
      this.positions[2 * i] = cx + cols.nodeXY[2 * i] * scale;
      this.positions[2 * i + 1] = cy + cols.nodeXY[2 * i + 1] * scale;
    }
    this.radius = n <= 12 ? 18 : n <= 48 ? 12 : n <= 200 ? 5 : 3;
    this.badgeWidth = n <= 48 ? this.nearestGap(cols) - 8 : 0;
  }

  /** The smallest horizontal distance between two nodes with log badges on about one level
   * (where their badges would meet), px; for up to 48 nodes. */
  nearestGap(cols) {
    const n = cols.nodes;
    const badged = (i) => cols.nodeLogLen[i] > 0 || (cols.nodeStages?.[i] ?? 0) > 0;
    let gap = Infinity;
    for (let i = 0; i < n; i++) {
      if (!badged(i)) continue;
      for (let j = i + 1; j < n; j++) {
        if (!badged(j)) continue;
        const dx = Math.abs(this.positions[2 * i] - this.positions[2 * j]);
        const dy = Math.abs(this.positions[2 * i + 1] - this.positions[2 * j + 1]);
        if (dy < 2 * this.radius + 8) gap = Math.min(gap, dx);
      }
    }
    return gap;
  }

  /** The node under a canvas point, or null; `minReach` widens the catch (for touch), px. */
  nodeAt(x, y, minReach = 0) {
    const n = this.positions.length / 2;
    const reach = Math.max(this.radius + 4, 8, minReach);
    let best = null, bestD = reach * reach;
    for (let i = 0; i < n; i++) {
      const dx = this.positions[2 * i] - x, dy = this.positions[2 * i + 1] - y;
      const d = dx * dx + dy * dy;
      if (d <= bestD) { best = i; bestD = d; }
    }
    return best;
  }

  nodeScreenPosition(id) {
    return { x: this.positions[2 * id], y: this.positions[2 * id + 1] };
  }

  /** Draws one frame. `f` = { cols, timeMs, selected, speed, pausedUntil (Map id→ms),
   * violating (Set of node ids a checker names), valuePrefix ("tok " for lease tokens),
   * clockLines (Map id → lines printed under the node, or null) }. */
  draw(f) {
    const { ctx } = this;
    const cols = f.cols;
    this.layout(cols);
    ctx.fillStyle = COLORS.bg;
    ctx.fillRect(0, 0, this.width, this.height);
    this.drawCuts(cols);
    this.drawMessages(cols, f.timeMs);
    if (f.highlight) this.drawHighlight(cols, f.timeMs, f.highlight);
    this.drawDrops(cols, f.timeMs, f.speed);
    const partitioned = cols.nodeGroup.some((g) => g !== 0);
    const big = cols.nodes > 48;
    let leaders = 0;
    for (let i = 0; i < cols.nodes; i++) if (cols.nodeRole[i] === ROLE.leader && cols.nodeStatus[i] !== 1) leaders++;
    const splitBrain = leaders > 1;
    const violating = f.violating ?? new Set();
    this.drawShockwaves(cols, f.timeMs, f.speed);
    const batched = this.radius < SMALL_R ? this.drawPlainNodes(cols, f, partitioned, violating) : null;
    for (let i = 0; i < cols.nodes; i++) {
      if (batched && batched[i]) continue;
      const x = this.positions[2 * i], y = this.positions[2 * i + 1];
      const until = f.pausedUntil?.get(i);
      drawNode(ctx, x, y, this.radius, {
        status: cols.nodeStatus[i],
        flags: cols.nodeFlags[i],
        suspectedBy: cols.nodeSuspectedBy[i],
        group: cols.nodeGroup[i],
        skewMs: cols.nodeSkew[i],
        pausedLeftMs: until === undefined ? undefined : until - f.timeMs,
        selected: f.selected === i,
        label: big ? undefined : String(i),
        partitioned,
        role: cols.nodeRole[i],
        term: cols.nodeTerm[i],
        load: cols.nodeLoad[i],
        queue: cols.nodeQueue[i],
        logLen: big ? 0 : cols.nodeLogLen[i],
        commit: cols.nodeCommit[i],
        stages: big || !cols.nodeStages ? 0 : cols.nodeStages[i],
        badgeWidth: this.badgeWidth,
        value: cols.nodeValue[i],
        splitBrain,
        violating: violating.has(i),
        valuePrefix: f.valuePrefix,
      });
    }
    if (f.clockLines) this.drawClockLines(f.clockLines);
  }

  /** Large clusters (nodes smaller than `SMALL_R`): the nodes whose glyph is only a body,
   * a partition rim and a suspicion mark are drawn together, one path per colour (rims per
   * group, bodies, crash crosses, pause rings, suspicion squares), as `drawNode` would draw
   * each: a thousand separate paths, fills and state changes cost more than the engine's
   * frame. Returns a flag per node, set for the ones drawn here; the rest (selected,
   * afflicted, loaded, leaders, odd shapes, outlined by a checker) go through `drawNode`. */
  drawPlainNodes(cols, f, partitioned, violating) {
    const { ctx } = this;
    const n = cols.nodes, r = this.radius;
    if (!this.plain || this.plain.length !== n) this.plain = new Uint8Array(n);
    const plain = this.plain;
    let any = false;
    for (let i = 0; i < n; i++) {
      const status = cols.nodeStatus[i], role = cols.nodeRole[i];
      const ok = cols.nodeFlags[i] === 0 && f.selected !== i && !violating.has(i)
        && (status === 1 || !(cols.nodeLoad[i] >= 0)) && plainRole(role);
      plain[i] = ok ? 1 : 0;
      any ||= ok;
    }
    if (!any) return plain;
    const TAU = Math.PI * 2;
    const each = (want, add) => {
      ctx.beginPath();
      for (let i = 0; i < n; i++) if (plain[i] && want(i)) add(this.positions[2 * i], this.positions[2 * i + 1], i);
    };
    ctx.save();
    if (partitioned) {
      // As drawNode: a dashed rim in the group's colour; colours and dashes repeat together.
      ctx.lineWidth = 1.5;
      for (let g = 0; g < GROUP_COLORS.length; g++) {
        const rim = r + 2.5;
        each((i) => cols.nodeGroup[i] % GROUP_COLORS.length === g, (x, y) => { ctx.moveTo(x + rim, y); ctx.arc(x, y, rim, 0, TAU); });
        ctx.strokeStyle = GROUP_COLORS[g];
        ctx.setLineDash(GROUP_DASHES[g]);
        ctx.stroke();
      }
      ctx.setLineDash([]);
    }
    each((i) => cols.nodeStatus[i] !== 1 && cols.nodeStatus[i] !== 2, (x, y) => { ctx.moveTo(x + r, y); ctx.arc(x, y, r, 0, TAU); });
    ctx.fillStyle = COLORS.up;
    ctx.fill();
    ctx.lineWidth = 1.5;
    const k = r + 0.5;
    each((i) => cols.nodeStatus[i] === 1, (x, y) => {
      ctx.moveTo(x - k, y - k); ctx.lineTo(x + k, y + k);
      ctx.moveTo(x + k, y - k); ctx.lineTo(x - k, y + k);
    });
    ctx.strokeStyle = CRASHED_GLYPH;
    ctx.stroke();
    each((i) => cols.nodeStatus[i] === 2, (x, y) => { ctx.moveTo(x + r, y); ctx.arc(x, y, r, 0, TAU); });
    ctx.strokeStyle = COLORS.paused;
    ctx.stroke();
    each((i) => cols.nodeStatus[i] !== 1 && cols.nodeStatus[i] !== 2 && cols.nodeSuspectedBy[i] > 0, (x, y) => {
      ctx.rect(x - r - 1.5, y - r - 1.5, 2 * r + 3, 2 * r + 3);
    });
    ctx.strokeStyle = COLORS.suspect;
    ctx.stroke();
    ctx.restore();
    return plain;
  }

  /** The clock overlay: each node's clocks in a small box below it. */
  drawClockLines(lines) {
    const { ctx } = this;
    const size = 10, lh = 12;
    ctx.font = `${size}px ui-monospace, monospace`;
    ctx.textAlign = 'left';
    ctx.textBaseline = 'top';
    for (const [id, rows] of lines) {
      const x = this.positions[2 * id], y = this.positions[2 * id + 1] + this.radius + 16;
      const w = Math.max(...rows.map((r) => ctx.measureText(r).width)) + 8, h = rows.length * lh + 4;
      const bx = Math.min(Math.max(2, x - w / 2), this.width - w - 2);
      ctx.fillStyle = 'rgba(20, 26, 40, 0.88)';
      ctx.fillRect(bx, y, w, h);
      ctx.strokeStyle = '#3a4660';
      ctx.strokeRect(bx + 0.5, y + 0.5, w - 1, h - 1);
      rows.forEach((r, k) => {
        ctx.fillStyle = k === 0 ? '#ffd166' : '#c7d2e6';
        ctx.fillText(r, bx + 4, y + 3 + k * lh);
      });
    }
  }

  /** Notes which nodes went down since the last frame (playing forward, not seeking) and
   * draws a fading ring around each for a moment of simulated time. */
  drawShockwaves(cols, t, speed) {
    const n = cols.nodes;
    if (!this.wasDown || this.wasDown.length !== n) {
      this.wasDown = new Uint8Array(n);
      this.downAt = new Float64Array(n).fill(-Infinity);
      this.lastT = t;
    }
    const forward = t >= this.lastT && t - this.lastT < 2000;
    const life = Math.min(2000, 600 * Math.max(1, speed / 2));
    for (let i = 0; i < n; i++) {
      const down = cols.nodeStatus[i] === 1 ? 1 : 0;
      if (down && !this.wasDown[i] && forward) this.downAt[i] = t;
      if (!forward) this.downAt[i] = -Infinity;
      this.wasDown[i] = down;
      const age = (t - this.downAt[i]) / life;
      if (age >= 0 && age < 1 && n <= 200) {
        drawShockwave(this.ctx, this.positions[2 * i], this.positions[2 * i + 1], this.radius, this.reducedMotion ? STILL_AGE : age);
      }
    }
    this.lastT = t;
  }

  drawCuts(cols) {
    if (cols.links === 0) return;
    const n = cols.nodes;
    for (let a = 0; a < n; a++) {
      for (let b = a + 1; b < n; b++) {
        const ab = cols.linkBlocked[a * n + b], ba = cols.linkBlocked[b * n + a];
        if (!ab && !ba) continue;
        const [ax, ay, bx, by] = [this.positions[2 * a], this.positions[2 * a + 1], this.positions[2 * b], this.positions[2 * b + 1]];
        if (ab && ba) drawCut(this.ctx, ax, ay, bx, by, false);
        else if (ab) drawCut(this.ctx, ax, ay, bx, by, true);
        else drawCut(this.ctx, bx, by, ax, ay, true);
      }
    }
  }

  drawMessages(cols, t) {
    const m = cols.msgs;
    const stride = m > this.maxDots ? Math.ceil(m / this.maxDots) : 1;
    const size = cols.nodes > 200 ? 1.5 : cols.nodes > 48 ? 2 : 3;
    let shown = 0;
    for (let i = 0; i < m; i += stride) {
      const from = cols.msgFrom[i], to = cols.msgTo[i];
      const span = cols.msgDeliver[i] - cols.msgSent[i];
      const frac = this.reducedMotion ? STILL_FRACTION : span > 0 ? Math.min(1, Math.max(0, (t - cols.msgSent[i]) / span)) : 1;
      const x = this.positions[2 * from] + (this.positions[2 * to] - this.positions[2 * from]) * frac;
      const y = this.positions[2 * from + 1] + (this.positions[2 * to + 1] - this.positions[2 * from + 1]) * frac;
      this.remember(shown, x, y, from, to, cols.msgSent[i], cols.msgKind[i]);
      shown++;
    }
    this.lastDrawn = { msgs: m, shown };
    this.fillMessages(shown, size);
  }

  /** Draws this frame's `count` remembered messages as `drawMessage` draws each, but one
   * path per kind and layer (shapes, outer rings, dark cores, Byzantine rings): thousands
   * of messages cost a few fills instead of a fill and a style change each. */
  fillMessages(count, size) {
    const { ctx } = this;
    const d = this.drawnAt;
    if (count === 0) return;
    const seen = (this.kindsSeen ??= new Uint32Array(MSG.kindMask + 1));
    seen.fill(0);
    let byzantine = false;
    for (let k = 0; k < count; k++) {
      seen[d.kind[k] & MSG.kindMask]++;
      byzantine ||= (d.kind[k] & MSG.byzantine) !== 0;
    }
    const TAU = Math.PI * 2;
    const each = (kind, add) => {
      ctx.beginPath();
      for (let k = 0; k < count; k++) if ((d.kind[k] & MSG.kindMask) === kind) add(d.xy[2 * k], d.xy[2 * k + 1]);
    };
    for (let kind = 0; kind < seen.length; kind++) {
      if (seen[kind] === 0) continue;
      each(kind, (x, y) => messageShape(ctx, x, y, kind, size));
      ctx.fillStyle = kindColor(kind);
      ctx.fill();
      if (kind < 3 || size < 2.5) continue;
      if (Math.floor((kind - 3) / 2) % 8 >= 4) {
        const ring = size * 1.25 + 3;
        each(kind, (x, y) => { ctx.moveTo(x + ring, y); ctx.arc(x, y, ring, 0, TAU); });
        ctx.strokeStyle = kindColor(kind);
        ctx.lineWidth = 1;
        ctx.stroke();
      }
      if (kind % 2 === 1) {
        const core = size * 0.55;
        each(kind, (x, y) => { ctx.moveTo(x + core, y); ctx.arc(x, y, core, 0, TAU); });
        ctx.fillStyle = COLORS.bg;
        ctx.fill();
      }
    }
    if (!byzantine) return;
    ctx.beginPath();
    for (let k = 0; k < count; k++) {
      if ((d.kind[k] & MSG.byzantine) === 0) continue;
      const x = d.xy[2 * k], y = d.xy[2 * k + 1];
      ctx.moveTo(x + size + 3, y);
      ctx.arc(x, y, size + 3, 0, TAU);
    }
    ctx.strokeStyle = COLORS.byzantine;
    ctx.lineWidth = 1.5;
    ctx.stroke();
  }

  /** Keeps where message `k` of this frame was drawn and its kind byte, for `messageAt`
   * and `fillMessages`. */
  remember(k, x, y, from, to, sentMs, kind) {
    if (!this.drawnAt || this.drawnAt.xy.length < 2 * (k + 1)) {
      const size = Math.max(1024, 2 * (k + 1));
      const old = this.drawnAt;
      this.drawnAt = { xy: new Float32Array(2 * size), ends: new Uint32Array(2 * size), sent: new Float64Array(size), kind: new Uint8Array(size) };
      if (old) { this.drawnAt.xy.set(old.xy); this.drawnAt.ends.set(old.ends); this.drawnAt.sent.set(old.sent); this.drawnAt.kind.set(old.kind); }
    }
    const d = this.drawnAt;
    d.xy[2 * k] = x; d.xy[2 * k + 1] = y;
    d.ends[2 * k] = from; d.ends[2 * k + 1] = to;
    d.sent[k] = sentMs;
    d.kind[k] = kind;
  }

  /** The message drawn nearest (x, y) in the last frame, within 8 px: { from, to, sentMs }. */
  messageAt(x, y) {
    const d = this.drawnAt, n = this.lastDrawn?.shown ?? 0;
    let best = null, bestD = 64;
    for (let k = 0; d && k < n; k++) {
      const dd = (d.xy[2 * k] - x) ** 2 + (d.xy[2 * k + 1] - y) ** 2;
      if (dd < bestD) { bestD = dd; best = { from: d.ends[2 * k], to: d.ends[2 * k + 1], sentMs: d.sent[k] }; }
    }
    return best;
  }

  /** A ring around one message in flight (the one hovered in the time-space diagram). */
  drawHighlight(cols, t, { from, to, sentMs }) {
    for (let i = 0; i < cols.msgs; i++) {
      if (cols.msgFrom[i] !== from || cols.msgTo[i] !== to || Math.abs(cols.msgSent[i] - sentMs) > 0.0005) continue;
      const span = cols.msgDeliver[i] - cols.msgSent[i];
      const frac = span > 0 ? Math.min(1, Math.max(0, (t - cols.msgSent[i]) / span)) : 1;
      const x = this.positions[2 * from] + (this.positions[2 * to] - this.positions[2 * from]) * frac;
      const y = this.positions[2 * from + 1] + (this.positions[2 * to + 1] - this.positions[2 * from + 1]) * frac;
      const { ctx } = this;
      ctx.beginPath();
      ctx.arc(x, y, 9, 0, Math.PI * 2);
      ctx.strokeStyle = COLORS.select;
      ctx.lineWidth = 2.5;
      ctx.stroke();
      return;
    }
  }

  drawDrops(cols, t, speed) {
    // Bursts fade over 400 ms of simulated time, stretched at high speed to stay visible.
    const life = Math.min(2000, 400 * Math.max(1, speed / 2));
    for (let i = 0; i < cols.drops; i++) {
      const age = (t - cols.dropAt[i]) / life;
      if (age < 0 || age >= 1) continue;
      const from = cols.dropFrom[i], to = cols.dropTo[i], frac = cols.dropFrac[i];
      const x = this.positions[2 * from] + (this.positions[2 * to] - this.positions[2 * from]) * frac;
      const y = this.positions[2 * from + 1] + (this.positions[2 * to + 1] - this.positions[2 * from + 1]) * frac;
      drawBurst(this.ctx, x, y, this.reducedMotion ? STILL_AGE : age);
    }
  }
}
