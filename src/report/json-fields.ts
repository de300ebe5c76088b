/**
 * Readers of the fields of a JSON record read back from a log file (`report`): a field of the wrong
 * type reads as absent, never throws. (The engine's wire JSON has its own, in src/docker/decode.ts.)
 */
export type Json = Record<string, unknown>;

export const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
/** A string, or `undefined`. */
export const text = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
/** A finite number, or `undefined`. */
export const num = (v: unknown): number | undefined =>
  typeof v === 'number' && Number.isFinite(v) ? v : undefined;
/** A finite number not below 0, or `undefined`. */
export const count = (v: unknown): number | undefined => {
  const n = num(v);
  return n !== undefined && n >= 0 ? n : undefined;
};
/** The strings of an array (none when it is not one). */
export const strings = (v: unknown): string[] =>
  Array.isArray(v) ? v.filter((x) => typeof x === 'string') : [];
/** An object, or an empty one. */
export const obj = (v: unknown): Json => (isObj(v) ? v : {});
