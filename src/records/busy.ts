import type { BusyReason } from '../model/idle.js';
import type { BusyFields } from './record-types.js';

/** A busy reason as records and documents carry it (`BusyFields`): its times as ISO 8601 strings (UTC). */
export type { BusyFields };

const iso = (ms: number) => new Date(ms).toISOString();

/** The edge where a busy reason's epoch milliseconds become the ISO strings the log schema documents. */
export function busyFields(b: BusyReason): BusyFields {
  switch (b.reason) {
    case 'run-stack-live':
      return { ...b, since: iso(b.since) };
    case 'recent-pull':
    case 'recent-container-start':
      return { ...b, at: iso(b.at), quietUntil: iso(b.quietUntil) };
    default:
      return b;
  }
}

/** One line for a busy reason, for logs and the `reasons` of a decision. */
export function busyText(b: BusyReason): string {
  switch (b.reason) {
    case 'out-of-sync':
      return `busy: model out of sync (${b.detail})`;
    case 'run-stack-live':
      return `busy: run stack ${b.stack} (${b.kind}) live since ${iso(b.since)}`;
    case 'service-converging':
      return `busy: service ${b.service} converging (${b.running}/${b.desired}${b.updateState ? `, ${b.updateState}` : ''})`;
    case 'service-stuck':
      return `busy: service ${b.service} stuck (${b.running}/${b.desired}, ${b.failingTasks} failing tasks)`;
    case 'recent-pull':
      return `busy: pull of ${b.ref} at ${iso(b.at)}, quiet until ${iso(b.quietUntil)}`;
    case 'recent-container-start':
      return `busy: container ${b.container} started at ${iso(b.at)}, quiet until ${iso(b.quietUntil)}`;
  }
}
