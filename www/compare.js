// Compare mode's logic, without the DOM: two runs that differ only in settings (the rule is
// the engine's, src/compare.rs) driven as one, and their differences put in words. The
// page (session.js, ui/compare.js) and <faultline-sim> both use it.
//
// `SimPair` looks like one `Sim` to the player loop and to travel.js: the first run is
// advanced within the frame budget, then the second is run to the very microsecond the
// first reached, so both always stand at the same moment — one clock for two runs — and a
// fault injected live lands at the same time in both schedules.
import { compareScenarios } from './sim.js';
import { formatMs } from './format.js';

export class SimPair {
  constructor(a, b) {
    this.a = a;
    this.b = b;
  }

  get canStopOnBudget() { return this.a.canStopOnBudget && this.b.canStopOnBudget; }

  runUntil(ms) {
    const n = this.a.runUntil(ms);
    return n + this.b.runUntil(ms);
  }

  /** The first run within the budget, then the second to the same moment. The events
   * reported are the first run's, so the pace learnt (events per wall ms, the second
   * run's cost included) bounds the pair's frame. */
  runUntilWithin(ms, maxEvents) {
    const { events, reached } = this.a.runUntilWithin(ms, maxEvents);
    const at = events < maxEvents ? ms : reached;
    this.b.runUntil(at);
    return { events, reached: at };
  }

  checkpointBeforeMs(ms) { return Math.min(this.a.checkpointBeforeMs(ms), this.b.checkpointBeforeMs(ms)); }

  seek(ms) {
    this.a.seek(ms);
    this.b.seek(ms);
  }
}

/** The variant as the comparison runs it: the first run's seed and fault schedule (live
 * injections included) with the variant's settings. Throws, in words, when the engine's
 * rule refuses the pair (different nodes, seeds or faults, or nothing changed); returns
 * the changed settings' field paths. */
export function checkComparable(first, variant) {
  return compareScenarios(first, variant);
}

/** Short names for the two sides: the scenarios' names, told apart when equal. */
export function sideLabels(a, b) {
  const na = a.name || 'this run';
  const nb = b.name || 'the variant';
  return na === nb ? [`${na} (A)`, `${nb} (B)`] : [na, nb];
}

/** A property's state in a few words. */
function verdict(c) {
  if (c.property === 'measure') return c.detail;
  if (c.property === 'liveness') {
    return c.satisfied_since_ms != null ? `satisfied since ${formatMs(c.satisfied_since_ms)}` : 'still pending';
  }
  if (!c.holds) return `violated since ${formatMs(c.violated_since_ms)} (${c.detail.split(';')[0]})`;
  return c.first_violation_ms !== null && c.first_violation_ms !== undefined
    ? `holds again (first broken at ${formatMs(c.first_violation_ms)})` : 'holds';
}

/** Whether the two sides' verdicts differ in kind or in count (not only in a moment). */
function differsInKind(x, y) {
  if (x.property === 'measure') return x.detail !== y.detail;
  if (x.property === 'liveness') return (x.satisfied_since_ms != null) !== (y.satisfied_since_ms != null);
  return x.holds !== y.holds || (x.violations ?? 0) !== (y.violations ?? 0)
    || (x.first_violation_ms == null) !== (y.first_violation_ms == null);
}

/** Every checker of either side, paired by id: [{ id, name, a, b, differs }], where a and
 * b are verdicts in words (or 'not checked' when that side has no such checker). */
export function pairChecks(checksA, checksB) {
  const byId = new Map(checksB.map((c) => [c.id, c]));
  const rows = checksA.map((x) => {
    const y = byId.get(x.id);
    byId.delete(x.id);
    return { id: x.id, name: x.name, property: x.property ?? 'safety', a: verdict(x), b: y ? verdict(y) : 'not checked', differs: !y || differsInKind(x, y) };
  });
  for (const y of byId.values()) rows.push({ id: y.id, name: y.name, property: y.property ?? 'safety', a: 'not checked', b: verdict(y), differs: true });
  return rows;
}

/** The series' latest values, paired by id: [{ id, name, unit, a, b, differs }]; a value
 * is null where a side has no point yet. Values differing by less than 5 % (or 0.5 in
 * absolute terms) count as the same. */
export function pairFigures(seriesA, seriesB) {
  const last = (s) => (s && s.values.length ? s.values[s.values.length - 1] : null);
  const byId = new Map(seriesB.map((s) => [s.id, s]));
  return seriesA.map((s) => {
    const a = last(s);
    const b = last(byId.get(s.id));
    const differs = a !== null && b !== null && Math.abs(a - b) > Math.max(0.5, 0.05 * Math.max(Math.abs(a), Math.abs(b)));
    return { id: s.id, name: s.name, unit: s.unit ?? '', a, b, differs };
  });
}

export function formatFigure(v, unit = '') {
  if (v === null || !Number.isFinite(v)) return '—';
  const text = Math.abs(v) >= 100 ? Math.round(v).toLocaleString('en') : v.toFixed(2).replace(/\.?0+$/, '');
  return unit ? `${text} ${unit}` : text;
}

/** The differences in words, most telling first: properties that hold on one side and not
 * the other, then figures that differ ("with Load shedding: replicas up 10; with Cascading
 * failure: 3"). An empty list when the two runs agree so far. */
export function differencesInWords(checkRows, figureRows, [la, lb]) {
  const words = [];
  for (const r of checkRows) if (r.differs && r.property !== 'measure') words.push(`${r.name} — with ${la}: ${r.a}; with ${lb}: ${r.b}.`);
  for (const r of checkRows) if (r.differs && r.property === 'measure') words.push(`${r.name} — with ${la}: ${r.a}; with ${lb}: ${r.b}.`);
  for (const f of figureRows) {
    if (f.differs) words.push(`${f.name} — with ${la}: ${formatFigure(f.a, f.unit)}; with ${lb}: ${formatFigure(f.b, f.unit)}.`);
  }
  return words;
}
