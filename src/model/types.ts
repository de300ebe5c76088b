import type {
  ContainerInfo,
  ContainerState,
  EngineEvent,
  EngineInfo,
  EngineSnapshot,
  ImageDetail,
  ServiceInfo,
  TaskInfo,
} from '../docker/types.js';
import type { EvictionMemory } from './eviction-memory.js';
import type { HeldEvictions } from './evictions.js';
import type { OwnRemoval } from './own-removals.js';

/** The agent's own clocks for an image, in ms since the epoch (agent clock). Persisted in the state file. */
export interface ImageClocks {
  firstSeen: number;
  lastUsed: number;
  /** When the image lost its last tag (or was first seen without one). */
  untaggedSince?: number;
}

export interface ImageEntry extends ImageClocks {
  id: string;
  tags: string[];
  digests: string[];
  /** Refs the image lost while the model held it (untag, a tag that moved): an eviction reports them. */
  formerRefs?: string[];
  layers: string[];
  layerSizes?: number[];
  size: number;
  /** Agent clock of the last pull classified for this image (swarm repeats are warm repeats of it). */
  lastPullAt?: number;
  /** Build time, seconds since the epoch (engine's word; never used for age). */
  created: number;
}

export interface ContainerEntry {
  id: string;
  name: string;
  imageId: string;
  state: ContainerState;
  created: number;
  finishedAt?: number;
  /** Swarm stack namespace or compose project. */
  stack?: string;
  stackKind?: 'swarm' | 'compose';
  serviceId?: string;
  serviceName?: string;
  taskId?: string;
}

export type ServiceState = 'converged' | 'converging' | 'stuck';

export interface ServiceEntry {
  id: string;
  name: string;
  image: string;
  stack?: string;
  mode: ServiceInfo['mode'];
  desired: number;
  running: number;
  updateState?: string;
  state: ServiceState;
  /** Agent clock when it last became converging (set from create/update events or a list). */
  convergingSince?: number;
  /** Tasks that failed or were rejected while it was not converged. */
  failingTasks: number;
}

/** A pull event waiting for its image to be inspected. */
export interface PendingPull {
  ref: string;
  /** Agent clock when the event was applied. */
  at: number;
  /** Engine time of the event, ms. */
  eventTimeMs: number;
}

export interface SyncState {
  /** True once a full list has been applied since the stream (re)connected. */
  inSync: boolean;
  connected: boolean;
  /**
   * Agent clock of the last connect, malformed line, dropped event or failed refresh: events may have been
   * missed before it, so only a full list started at or after it brings the model in sync.
   */
  invalidatedAt?: number;
  /** Why it is not in sync, when it is not. */
  reason?: string;
  lastResyncAt?: number;
}

export interface Model {
  sync: SyncState;
  engine?: EngineInfo;
  images: Map<string, ImageEntry>;
  /** Reference counts of layers (diff ids) over all images in the model. */
  layers: Map<string, number>;
  containers: Map<string, ContainerEntry>;
  services: Map<string, ServiceEntry>;
  /** Live containers (running, restarting, paused) per stack. */
  stackContainers: Map<string, { kind: 'swarm' | 'compose'; live: number }>;
  /** Stacks with something live, and since when (agent clock). Kept in step by model/stacks.ts. */
  liveStacks: Map<string, { kind: 'swarm' | 'compose'; since: number }>;
  /** Clocks restored from the state file, for images not seen yet in this run. */
  savedClocks: Map<string, ImageClocks>;
  /** The engine the saved clocks belong to; clocks from another engine are dropped at the first list. */
  savedEngineId?: string;
  /** Last pull and container start (agent clock), for the quiet period. */
  activity: {
    pull?: { at: number; ref: string };
    /** `id` lets the inspect put the real name in place (event attributes can be spoofed by labels). */
    containerStart?: { at: number; name: string; id?: string };
  };
  /** Pulls whose image has not been inspected yet, by ref. */
  pendingPulls: Map<string, PendingPull>;
  /** Images the agent's own executor is removing, until its DELETE answered (model/own-removals.ts). */
  ownRemovals: Map<string, OwnRemoval>;
  /** External evictions waiting to learn their activity (a `prune` event may close their burst). */
  heldEvictions?: HeldEvictions;
  /** Recent evictions by image id, repo:tag and repo@digest, to link a later cold re-pull to its cause. */
  evictionMemory: EvictionMemory;
  /** Events applied since start, by type (for metrics). */
  eventCounts: Map<string, number>;
}

/** What the model is told. `at` is the agent's clock when the input is applied. */
export type ModelInput =
  | { kind: 'event'; event: EngineEvent }
  | { kind: 'snapshot'; snapshot: EngineSnapshot; reason: string; startedAt?: number }
  | { kind: 'images'; images: ImageDetail[] }
  | { kind: 'containers'; containers: ContainerInfo[] }
  | { kind: 'container'; id: string; container: ContainerInfo | null }
  | { kind: 'services'; services: ServiceInfo[]; tasks: TaskInfo[] }
  | { kind: 'pull.resolved'; ref: string; image: ImageDetail | null }
  /**
   * The executor is about to delete this image (no `answer`), then what its DELETE answered: `removed`
   * (the eviction is `by: layerwarden`) or `not-removed` (404, 409, error: an eviction seen is someone else's).
   */
  | { kind: 'own-removal'; id: string; answer?: 'removed' | 'not-removed' }
  /** Time to close the held evictions' burst (asked for by a `settle-evictions` want; `final` on stop). */
  | { kind: 'evictions.settle'; final?: boolean }
  | { kind: 'stream.up'; attempt: number }
  | { kind: 'stream.down'; reason: string; code?: string; retryInMs: number; attempt: number }
  | { kind: 'malformed'; reason: string; sample: string }
  | { kind: 'overflow'; limit: number }
  | { kind: 'refresh.failed'; what: string; message: string };

/** Work the reducer asks the streams layer to do (coalesced by key, never inline). */
export type Want =
  | { kind: 'list-images' }
  | { kind: 'list-containers' }
  | { kind: 'inspect-container'; id: string }
  | { kind: 'list-services'; delayMs?: number }
  | { kind: 'resolve-pull'; ref: string }
  /** Push `evictions.settle` after this delay, replacing any earlier request (a timer, not a list). */
  | { kind: 'settle-evictions'; delayMs: number }
  | { kind: 'resync'; reason: string };

/** Something worth a log record, produced by the reducer. `event` is the stable log event name. */
export interface Note {
  event: string;
  level?: 'debug' | 'info' | 'warn' | 'error';
  [field: string]: unknown;
}

export interface Step {
  notes: Note[];
  wants: Want[];
}
