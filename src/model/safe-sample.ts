/**
 * A malformed event line's sample, cut before `Attributes`: labels merge into them, and a label can hold
 * a secret. What precedes (Type, Action, the actor id) is what helps diagnose the line.
 */
export function safeSample(sample: string): string {
  const cut = sample.search(/"(Attributes|Labels|Env)"/);
  return cut < 0 ? sample : `${sample.slice(0, cut)}…`;
}
