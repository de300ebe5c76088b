import { createRefIndex } from './images/ref-index.js';
import { createEvictionMemory } from './evictions/eviction-memory.js';
import type { ImageClocks, Model } from './types.js';

/** An empty model, not in sync, optionally with clocks restored from the state file. */
export function createModel(
  savedClocks: Map<string, ImageClocks> = new Map(),
  savedEngineId?: string,
): Model {
  return {
    ...(savedEngineId !== undefined && { savedEngineId }),
    sync: { inSync: false, connected: false, reason: 'not listed yet' },
    images: new Map(),
    refIndex: createRefIndex(),
    layers: new Map(),
    chains: new Map(),
    containers: new Map(),
    services: new Map(),
    stackContainers: new Map(),
    stackServices: new Map(),
    stackChanges: 0,
    stacksSettled: { changes: 0, size: 0 },
    liveStacks: new Map(),
    savedClocks,
    activity: {},
    pendingPulls: new Map(),
    pullSeq: 0,
    recentPulls: [],
    pullWindows: new Map(),
    layerBytes: new Map(),
    serviceWatches: new Map(),
    ownRemovals: new Map(),
    evictionMemory: createEvictionMemory(),
  };
}
