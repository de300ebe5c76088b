import type { BusyReason, IdleAnswer } from '../model/idle.js';
import { busyFields } from '../records/busy.js';
import type { HostBusyRecord, HostIdleRecord } from '../records/record-types.js';

/** A short key per busy reason, so a change of reasons (not of timestamps) is what gets logged. */
function reasonKey(b: BusyReason): string {
  switch (b.reason) {
    case 'run-stack-live':
      return `${b.reason}:${b.stack}`;
    case 'service-converging':
    case 'service-stuck':
      return `${b.reason}:${b.service}`;
    case 'recent-pull':
    case 'recent-container-start':
    case 'out-of-sync':
      return b.reason;
  }
}

/** Tracks idle/busy transitions: returns the record to log when the answer changed, else undefined. */
export function createIdleWatch() {
  let last: string | undefined;
  return (answer: IdleAnswer): HostIdleRecord | HostBusyRecord | undefined => {
    const key = answer.idle ? 'idle' : answer.busy.map(reasonKey).sort().join('|');
    if (key === last) return undefined;
    last = key;
    return answer.idle
      ? { event: 'host.idle' }
      : { event: 'host.busy', level: 'info', busy: answer.busy.map(busyFields) };
  };
}

/** The earliest instant (ms) at which a quiet-period reason expires, to look again then. */
export function nextQuietExpiry(answer: IdleAnswer): number | undefined {
  let next: number | undefined;
  for (const b of answer.busy) {
    if (b.reason !== 'recent-pull' && b.reason !== 'recent-container-start') continue;
    const t = b.quietUntil;
    if (next === undefined || t < next) next = t;
  }
  return next;
}
