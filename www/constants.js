// The engine's codes the page reads out of the render columns — node roles, affliction
// flags, message bits, drop reasons, trace kinds and fault codes — and the limits the page checks input against. They
// are filled from the wasm module's `constants()` export when the engine loads (sim.js),
// so JavaScript never copies a number from Rust; read them only after `loadEngine()`.

/** Role codes of the `node_role` column, by name (`ROLE.leader`, …). */
export const ROLE = {};
/** Bits of the `node_flags` column, by name (`FLAG.gray`, …). */
export const FLAG = {};
/** Bits of the `msg_kind` column: `MSG.kindMask`, `MSG.byzantine`, `MSG.doomed`. */
export const MSG = {};
/** Drop reason names, indexed by the `drop_reason` code ('' for 0). */
export const DROP_NAMES = [];
/** Trace event kind codes, by name (`TRACE.send`, `TRACE.deliver`, …). */
export const TRACE = {};
/** Fault codes of trace `fault` events, by verb (`FAULT_CODE.crash`, …). */
export const FAULT_CODE = {};
/** `LIMITS.page_max_nodes`, `max_nodes`, `max_time_ms`, `max_faults`. */
export const LIMITS = {};

/** Fills the tables from the engine's `constants()` (every load gives the same values). */
export function fillConstants(c) {
  Object.assign(ROLE, c.role);
  Object.assign(FLAG, c.flag);
  Object.assign(MSG, c.msg);
  DROP_NAMES.splice(0, DROP_NAMES.length, ...c.drop_reasons);
  Object.assign(LIMITS, c.limits);
  Object.assign(TRACE, c.trace_kinds ?? {});
  Object.assign(FAULT_CODE, c.fault_codes ?? {});
}
