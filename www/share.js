// The share URL: `#s=` + base64url(UTF-8 JSON of { v, scenario, t_ms }). This module owns
// the codec and the limits; a later format version adds compression behind the same calls.

export const FORMAT_VERSION = 1;
/** Longest fragment we try to read, in characters (a scenario is far smaller). */
export const MAX_FRAGMENT_CHARS = 200_000;

function toBase64Url(bytes) {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function fromBase64Url(text) {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) throw new Error('it contains characters that are not base64url');
  const padded = text.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (text.length % 4)) % 4);
  let binary;
  try {
    binary = atob(padded);
  } catch {
    throw new Error('it is not valid base64url');
  }
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

/** The fragment (without '#') for a scenario at a time. */
export function encodeShare(scenario, tMs) {
  const json = JSON.stringify({ v: FORMAT_VERSION, scenario, t_ms: tMs });
  return `s=${toBase64Url(new TextEncoder().encode(json))}`;
}

/** Reads `location.hash`; returns null when there is no shared scenario, or
 * { scenario, tMs }; throws an Error saying what is wrong with a mangled one. */
export function decodeShare(hash) {
  const fragment = hash.startsWith('#') ? hash.slice(1) : hash;
  if (!fragment.startsWith('s=')) return null;
  const payload = fragment.slice(2);
  if (payload.length > MAX_FRAGMENT_CHARS) {
    throw new Error(`it is ${payload.length} characters long; the limit is ${MAX_FRAGMENT_CHARS}`);
  }
  const bytes = fromBase64Url(payload);
  let data;
  try {
    data = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    throw new Error('it does not decode to a scenario (truncated or damaged?)');
  }
  if (typeof data !== 'object' || data === null) throw new Error('it does not hold a scenario');
  if (data.v !== FORMAT_VERSION) throw new Error(`it uses format version ${data.v}, which this Faultline does not know`);
  const tMs = Number(data.t_ms ?? 0);
  if (!Number.isFinite(tMs) || tMs < 0) throw new Error('its time position is not a valid number of ms');
  return { scenario: data.scenario, tMs };
}
