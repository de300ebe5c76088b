/** The shapes of the eviction audit (src/report/audit.ts builds them, audit-render.ts prints them). */
type Rec = Record<string, unknown>;

export interface AuditEviction {
  at: string;
  image: string;
  refs: string[];
  by: string;
  activity: string;
  duringRun: boolean;
  stacks: string[];
  freedBytes?: number;
  pruneAt?: string;
}

export interface ActorTotals {
  by: string;
  evictions: number;
  duringRun: number;
  /** Sum of the known `freedBytes`; `unknownBytes` counts the evictions whose figure was not known. */
  freedBytes: number;
  unknownBytes: number;
}

/** One activity that evicted images: an engine prune (all its burst), or one plain delete. */
export interface EvictionCause {
  by: string;
  activity: string;
  at: string;
  evictions: number;
  rePulls: number;
  cold: number;
  partial: number;
  /** Bytes the re-pulls downloaded. */
  bytes: number;
}

export interface RePull {
  at: string;
  ref: string;
  class: string;
  bytes: number;
  eviction: { at: string; by: string; activity: string; image: string; pruneAt?: string };
}

export interface AuditSection {
  evictions: {
    total: number;
    freedBytes: number;
    byActor: ActorTotals[];
    byActivity: Record<string, number>;
  };
  duringRun: AuditEviction[];
  rePulls: { total: number; bytes: number; byCause: EvictionCause[]; pulls: RePull[] };
  enginePrunes: Array<{
    at: string;
    what: string;
    reclaimed: number;
    evictions?: number;
    claimedBy?: string;
  }>;
  pruneDecisions: Array<{ at: string; fired: boolean; gates: Rec; reasons: string[] }>;
}
