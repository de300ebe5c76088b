import type { AgentState } from '../state/state-file.js';

export type PruneBookState = AgentState['prune'];

/**
 * The prune's bookkeeping (last boundary evaluated, last run, its outcome), persisted with the clocks.
 * One owner: the agent holds it and saves it; the boundary runner records into it; everyone else reads.
 */
export interface PruneBook {
  get(): Readonly<PruneBookState>;
  record(patch: Partial<PruneBookState>): void;
}

export function createPruneBook(initial: PruneBookState = {}): PruneBook {
  let state: PruneBookState = { ...initial };
  return {
    get: () => state,
    record: (patch) => {
      state = { ...state, ...patch };
    },
  };
}
