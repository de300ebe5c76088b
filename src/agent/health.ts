import type { Model } from '../model/types.js';

export interface Health {
  ok: boolean;
  /** Why it is not healthy; empty when it is. */
  reasons: string[];
  connected: boolean;
  inSync: boolean;
  lastResyncAt?: string;
}

/**
 * Healthy = the events stream is connected and the model is in sync with the engine (a full list was
 * applied since the last connect). A model that has not seen its first tick yet is not healthy.
 */
export function healthOf(model: Model | undefined): Health {
  if (!model)
    return {
      ok: false,
      reasons: ['starting: no answer from the engine yet'],
      connected: false,
      inSync: false,
    };
  const { sync } = model;
  const reasons: string[] = [];
  if (!sync.connected) reasons.push(sync.reason ?? 'events stream not connected');
  else if (!sync.inSync) reasons.push(`model not in sync: ${sync.reason ?? 'listing'}`);
  return {
    ok: reasons.length === 0,
    reasons,
    connected: sync.connected,
    inSync: sync.inSync,
    ...(sync.lastResyncAt !== undefined && { lastResyncAt: new Date(sync.lastResyncAt).toISOString() }),
  };
}
