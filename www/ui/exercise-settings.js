// The settings an exercise lets the learner change (its `rules.settings` paths, such as
// `protocol.fencing`), as a small form in the exercise panel: a checkbox for a true/false
// value, a number field for a number, a text field for a word, and JSON text for anything
// else (an absent value reads `null`). "Run again with these settings" restarts the
// recorded run from time 0 with the changed values (faults injected so far are kept); the
// engine's validation explains a value it refuses. Only changed fields are written.

/** The value at a dotted path in `obj` (undefined when absent). */
function getPath(obj, path) {
  return path.split('.').reduce((o, k) => (o == null ? undefined : o[k]), obj);
}

function setPath(obj, path, value) {
  const keys = path.split('.');
  const last = keys.pop();
  let o = obj;
  for (const k of keys) {
    if (o[k] == null || typeof o[k] !== 'object') o[k] = {};
    o = o[k];
  }
  o[last] = value;
}

export class ExerciseSettings {
  /** el: the form's container; onApply(edit) restarts the run with `edit(scenario)`. */
  constructor(el, onApply) {
    this.el = el;
    this.onApply = onApply;
    this.fields = [];
  }

  /** Builds the form for `paths` from the scenario's current values. */
  fill(paths, scenario) {
    this.fields = [];
    this.el.replaceChildren();
    this.el.hidden = paths.length === 0;
    if (!paths.length) return;
    const heading = document.createElement('p');
    heading.className = 'small';
    heading.textContent = 'Settings you may change:';
    this.el.append(heading);
    for (const path of paths) this.el.append(this.field(path, getPath(scenario, path)));
    const apply = document.createElement('button');
    apply.type = 'button';
    apply.id = 'exercise-apply';
    apply.textContent = 'Run again with these settings';
    apply.addEventListener('click', () => this.apply());
    this.el.append(apply);
  }

  field(path, value) {
    const label = document.createElement('label');
    label.className = 'field';
    const input = document.createElement('input');
    input.dataset.path = path;
    let kind = 'json';
    if (typeof value === 'boolean') {
      kind = 'bool';
      input.type = 'checkbox';
      input.checked = value;
    } else if (typeof value === 'number') {
      kind = 'number';
      input.type = 'number';
      input.step = 'any';
      input.value = String(value);
    } else if (typeof value === 'string') {
      kind = 'text';
      input.type = 'text';
      input.value = value;
    } else {
      input.type = 'text';
      input.value = JSON.stringify(value ?? null);
      input.spellcheck = false;
    }
    const initial = kind === 'bool' ? input.checked : input.value;
    this.fields.push({ path, kind, input, initial });
    const name = path.replace(/^protocol\./, '').replaceAll('_', ' ');
    label.append(kind === 'json' ? `${name} (JSON) ` : `${name} `, input);
    return label;
  }

  /** The changed values, or throws an Error naming the field that is not valid JSON. */
  changes() {
    const out = [];
    for (const { path, kind, input, initial } of this.fields) {
      const now = kind === 'bool' ? input.checked : input.value;
      if (now === initial) continue;
      if (kind === 'bool') out.push([path, now]);
      else if (kind === 'number') out.push([path, Number(now)]);
      else if (kind === 'text') out.push([path, now]);
      else {
        try {
          out.push([path, JSON.parse(now)]);
        } catch {
          throw new Error(`${path}: not valid JSON (write null, a number, "a word" or {"key": value})`);
        }
      }
    }
    return out;
  }

  apply() {
    let changes;
    try {
      changes = this.changes();
    } catch (e) {
      this.onApply(null, e.message);
      return;
    }
    this.onApply((scenario) => { for (const [path, value] of changes) setPath(scenario, path, value); }, null);
  }
}
