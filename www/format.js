// Formatting helpers shared by the page, the embed element and the UI modules: how a
// simulated time or a size reads on screen. Pure functions, no DOM.

/** A simulated time: "4.20 ms", "950 ms", "12.34 s", "3 min 5.0 s", "2 h 5 min", "10 d 3 h". */
export function formatMs(ms) {
  if (ms < 1000) return `${ms.toFixed(ms < 10 ? 2 : 0)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(2)} s`;
  const s = ms / 1000;
  if (s < 3600) return `${Math.floor(s / 60)} min ${(s % 60).toFixed(1)} s`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  return `${Math.floor(s / 86_400)} d ${Math.floor((s % 86_400) / 3600)} h`;
}

/** A short clock for small displays: "250 ms", "12.3 s". */
export function formatClock(ms) {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/** Bytes as MiB: "212 MiB", "1.5 GiB". */
export function formatBytes(bytes) {
  const mib = bytes / 2 ** 20;
  return mib < 1024 ? `${Math.round(mib)} MiB` : `${(mib / 1024).toFixed(1)} GiB`;
}
