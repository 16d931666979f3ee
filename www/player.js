// The one player loop, shared by the page and <faultline-sim>: maps wall time to simulated
// time at the chosen speed and asks the engine to run there, in slices bounded by a frame
// budget so a frame never blocks the page however heavy the run. When the engine cannot
// keep up, the effective speed drops to what it achieved (shown as "running slower");
// it recovers gently when there is room. Frames run only while playing and visible
// (requestAnimationFrame; nothing when paused or hidden).

/** Longest wall-time step one frame may take, ms (a background tab must not jump). */
const MAX_FRAME_WALL_MS = 100;
/** Script time a whole frame may take, ms: the engine's slices plus what follows them
 * (columns, drawing, panels), measured. The rest of a 16.7 ms frame is the browser's
 * (style, paint, raster): a thousand nodes given 12 ms of engine on top of their drawing
 * ran at 30 fps. */
export const FRAME_BUDGET_MS = 8;
/** Least engine time per frame, ms, however costly the drawing: the run always moves. */
const MIN_ENGINE_MS = 5;
/** Weight of the newest frame in the drawing cost's moving average: a few frames' memory,
 * so a one-off costly frame (a panel refresh, a collection) does not starve the engine. */
const DRAW_COST_WEIGHT = 0.2;
/** Smallest simulated slice, ms (1 µs: the engine's unit). */
const MIN_SLICE_MS = 0.001;

/** Fewest events a slice may ask for. */
const MIN_EVENTS = 16;
/** Most events a slice may ask for: a wrong guess costs at most a few frames' time. */
const MAX_EVENTS = 1_000_000;
/** Longest a slice is planned to take, ms: a guess off by 2× still leaves the frame short. */
const SLICE_WALL_MS = 4;
/** Slices shorter than this teach the pace nothing but "more" (the clock is too coarse), ms. */
const MIN_LEARN_WALL_MS = 0.5;

/** How many events a wall millisecond buys for one run, learnt as it runs: the budget
 * that bounds a slice, since simulated time is uneven (a thousand nodes heartbeating at
 * once) while events cost about the same. Engines of earlier epochs cannot stop on a
 * budget; for them the pace learns simulated time per wall millisecond instead. */
export class Pace {
  constructor() {
    this.simPerWallMs = 0.5;
    this.eventsPerWallMs = 500;
  }

  /** A slice that should take about half of `wallLeftMs` (at most `SLICE_WALL_MS`), in
   * events... */
  maxEvents(wallLeftMs) {
    const wall = Math.min(SLICE_WALL_MS, wallLeftMs * 0.5);
    return Math.max(MIN_EVENTS, Math.floor(this.eventsPerWallMs * wall));
  }

  /** ...or in simulated time (engines without a budget). */
  sliceMs(wallLeftMs) { return Math.max(MIN_SLICE_MS, this.simPerWallMs * wallLeftMs * 0.5); }

  /** Learns from a slice that ran `events` of the `asked` in `wallMs`. A measurable slice
   * sets the rate (it may rise only if the budget stopped it, and at most doubles); a
   * whole budget in no measurable time doubles it. */
  learnEvents(events, wallMs, asked) {
    const stopped = events >= asked;
    if (wallMs >= MIN_LEARN_WALL_MS) {
      const seen = events / wallMs;
      if (stopped || seen < this.eventsPerWallMs) this.eventsPerWallMs = Math.min(this.eventsPerWallMs * 2, seen);
    } else if (stopped) {
      this.eventsPerWallMs *= 2;
    }
    this.eventsPerWallMs = Math.min(MAX_EVENTS, Math.max(MIN_EVENTS, this.eventsPerWallMs));
  }

  /** Learns from a slice of `simMs` that took `wallMs`: falls at once, at most doubles. */
  learn(simMs, wallMs) {
    const rate = simMs / Math.max(wallMs, 0.05);
    this.simPerWallMs = Math.max(MIN_SLICE_MS, Math.min(this.simPerWallMs * 2, rate));
  }
}

/** Runs `sim` from `fromMs` toward `targetMs` in slices until the wall clock passes
 * `deadline` (a `performance.now()` value). Returns the simulated time reached. */
export function runWithin(sim, fromMs, targetMs, deadline, pace) {
  let t = fromMs;
  while (t < targetMs) {
    const start = performance.now();
    if (start >= deadline) break;
    const left = deadline - start;
    if (sim.canStopOnBudget) {
      const asked = pace.maxEvents(left);
      const { events, reached } = sim.runUntilWithin(targetMs, asked);
      pace.learnEvents(events, performance.now() - start, asked);
      // Short of the budget, the engine got all the way (to the target's microsecond).
      t = events < asked ? targetMs : reached;
    } else {
      const next = Math.min(targetMs, t + pace.sliceMs(left));
      sim.runUntil(next);
      pace.learn(next - t, performance.now() - start);
      t = next;
    }
  }
  return t;
}

export class Player {
  /** host: { sim() → Sim | null, timeMs() → ms, moved(ms) after the engine advanced,
   * draw(), visible() → bool, failed(error) when the engine threw (the player pauses) }. */
  constructor(host) {
    this.host = host;
    this.playing = false;
    this.speed = 1;
    this.effectiveSpeed = 1;
    this.rafId = null;
    this.lastWall = null;
    this.pace = new Pace();
    /** A frame's work besides the engine (columns, drawing, panels), moving average, ms. */
    this.drawCostMs = 0;
  }

  /** The engine's share of this frame: what the frame budget leaves after the drawing
   * that follows the engine (as it has cost lately), at least `MIN_ENGINE_MS`. */
  engineBudgetMs() {
    return Math.max(MIN_ENGINE_MS, FRAME_BUDGET_MS - this.drawCostMs);
  }

  play() { this.playing = true; this.lastWall = null; this.schedule(); }
  pause() { this.playing = false; this.schedule(); }
  setSpeed(speed) { this.speed = speed; this.effectiveSpeed = speed; }
  /** A new run: its pace is learnt afresh. */
  reset() { this.pace = new Pace(); this.effectiveSpeed = this.speed; }

  /** Starts or stops the frame loop: frames only while playing and visible. A loop that
   * starts again (play, the tab shown again) does not count the time it was stopped. */
  schedule() {
    const want = this.playing && this.host.visible() && this.host.sim() !== null;
    if (want && this.rafId === null) {
      this.lastWall = null;
      this.rafId = requestAnimationFrame((t) => this.frame(t));
    } else if (!want && this.rafId !== null) {
      cancelAnimationFrame(this.rafId);
      this.rafId = null;
    }
  }

  frame(now) {
    this.rafId = null;
    if (!this.playing || !this.host.visible() || !this.host.sim()) return this.schedule();
    const wallMs = this.lastWall === null ? 16 : Math.min(MAX_FRAME_WALL_MS, now - this.lastWall);
    this.lastWall = now;
    const from = this.host.timeMs();
    const want = from + wallMs * this.effectiveSpeed;
    let reached;
    try {
      reached = runWithin(this.host.sim(), from, want, performance.now() + this.engineBudgetMs(), this.pace);
    } catch (e) {
      this.pause();
      this.host.failed(e);
      return;
    }
    const drawStart = performance.now();
    this.host.moved(reached);
    this.adjust(reached < want, (reached - from) / wallMs);
    this.host.draw();
    this.drawCostMs += DRAW_COST_WEIGHT * (performance.now() - drawStart - this.drawCostMs);
    // The next frame continues the loop: its wall step is measured from this one.
    if (this.playing) this.rafId = requestAnimationFrame((t) => this.frame(t));
  }

  /** Too slow for the requested speed: run at what was achieved; else recover gently. */
  adjust(behind, achieved) {
    if (behind) this.effectiveSpeed = Math.max(this.speed / 100_000, Math.min(this.effectiveSpeed, achieved));
    else if (this.effectiveSpeed < this.speed) this.effectiveSpeed = Math.min(this.speed, this.effectiveSpeed * 1.1);
  }
}
