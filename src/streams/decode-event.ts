import { type EngineEvent, KNOWN_ATTRIBUTES, type KnownAttribute } from '../docker/types.js';

export type Decoded = { ok: true; event: EngineEvent } | { ok: false; reason: string; sample: string };

const TIME_NANO = /"timeNano"\s*:\s*(\d+)/;
const KNOWN: ReadonlySet<string> = new Set(KNOWN_ATTRIBUTES);

/**
 * Decodes one line of the events stream. Reads only Type, Action, Actor, scope, time and timeNano
 * (the legacy status/id/from fields are gone from API 1.52). timeNano exceeds 2^53, so its exact
 * digits are taken from the raw text, not from JSON.parse.
 */
export function decodeEvent(line: string): Decoded {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch {
    return bad('not JSON', line);
  }
  if (typeof raw !== 'object' || raw === null) return bad('not an object', line);
  const r = raw as Record<string, unknown>;
  const type = r.Type;
  const action = r.Action;
  const actor = r.Actor as { ID?: unknown; Attributes?: unknown } | undefined;
  if (typeof type !== 'string' || !type) return bad('no Type', line);
  if (typeof action !== 'string' || !action) return bad('no Action', line);
  if (typeof actor !== 'object' || actor === null) return bad('no Actor', line);
  const end = timeNanoEnd(line);
  const start = end < 0 ? -1 : digitsFrom(line, end);
  const timeNano =
    end >= 0
      ? flat(line, start, end)
      : typeof r.time === 'number'
        ? `${Math.trunc(r.time)}000000000`
        : undefined;
  if (!timeNano) return bad('no time', line);
  const attributes: EngineEvent['attributes'] = {};
  const attrs = actor.Attributes;
  if (typeof attrs === 'object' && attrs !== null) {
    // Over the event's own attributes, not over the known names: a container event carries every label
    // of its container, and 18 lookups by a changing name cost more than a walk of the few keys it has.
    const a = attrs as Record<string, unknown>;
    for (const key in a) {
      if (!KNOWN.has(key)) continue;
      const v = a[key];
      if (typeof v === 'string') attributes[key as KnownAttribute] = v;
    }
  }
  return {
    ok: true,
    event: {
      type,
      action,
      actorId: typeof actor.ID === 'string' ? actor.ID : '',
      attributes,
      scope: typeof r.scope === 'string' ? r.scope : 'local',
      timeNano,
      timeMs: end >= 0 && end - start <= 21 ? msOfDigits(line, start, end) : nanoToMs(timeNano),
    },
  };
}

/**
 * Where the digits of timeNano end in the line (-1: none), as TIME_NANO's first match has them, without
 * running it on every line: the first `"timeNano"` of the line, when a colon and digits follow it at
 * once (as the engine writes it), is where that match starts (every match starts with `"timeNano"`).
 * Anything else (whitespace, no digits) is left to the regex.
 */
function timeNanoEnd(line: string): number {
  // `Nano"` is rare in an event line, `"` is everywhere: searching for it from the `N` is the cheap way.
  for (let k = line.indexOf('Nano"'); k >= 0; k = line.indexOf('Nano"', k + 5)) {
    if (k < 5 || !line.startsWith('"time', k - 5)) continue;
    let i = k + 5;
    if (line.charCodeAt(i) !== COLON) break;
    const start = ++i;
    while (isDigit(line.charCodeAt(i))) i++;
    if (i === start) break;
    return i;
  }
  const match = TIME_NANO.exec(line);
  return match ? match.index + match[0].length : -1;
}

const COLON = 58;
const isDigit = (c: number) => c >= 48 && c <= 57;

/** Where the run of digits that ends at `end` starts. */
function digitsFrom(line: string, end: number): number {
  let i = end;
  while (i > 0 && isDigit(line.charCodeAt(i - 1))) i--;
  return i;
}

/**
 * nanoToMs of the digits from `start` to `end`, at most 21 of them (at most 15 before the last 6, so
 * the sum is an exact integer below 2^53 and equals what Number() makes of them), read in place.
 */
function msOfDigits(line: string, start: number, end: number): number {
  let ms = 0;
  for (let i = start; i < end - 6; i++) ms = ms * 10 + (line.charCodeAt(i) - 48);
  return ms;
}

/**
 * `s` from `from` to `to`, copied so as not to hold the line it was cut from: V8 keeps a substring
 * of 13 or more characters as a view of its parent, and the de-duplication cache keeps 4,096 event keys built from
 * timeNano, which held 4,096 whole lines (~3.8 MB in the weeks benchmark). Pieces under 13 characters
 * are copied.
 */
function flat(s: string, from: number, to: number): string {
  let out = '';
  for (let i = from; i < to; i += 12) out += s.slice(i, Math.min(i + 12, to));
  return out;
}

/** Milliseconds from an exact decimal nanosecond count, without passing through a rounded double. */
export function nanoToMs(timeNano: string): number {
  return timeNano.length > 6 ? Number(timeNano.slice(0, -6)) : 0;
}

/** `<sec>.<nanosec>` for the engine's since/until parameters. */
export function nanoToSince(timeNano: string): string {
  const padded = timeNano.padStart(10, '0');
  return `${padded.slice(0, -9)}.${padded.slice(-9)}`;
}

/** The key events are de-duplicated on after a replay (`since` is inclusive). */
export function eventKey(e: EngineEvent): string {
  return `${e.timeNano}|${e.type}|${e.action}|${e.actorId}`;
}

function bad(reason: string, line: string): Decoded {
  return { ok: false, reason, sample: line.slice(0, 120) };
}
