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
import type { EvictionMemory } from './evictions/eviction-memory.js';
import type { HeldEvictions, OwnRemoval } from './evictions/types.js';
import type { LogRecord } from '../records/record-types.js';

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
  /** ChainIDs of `layers` (what the engine's layer store is keyed by), set with the layers. */
  chains?: string[];
  layerSizes?: number[];
  size: number;
  /** Containers using it as the engine's last list counted them (API ≥ 1.51); undefined: not told. */
  engineContainers?: number;
  /** The last pull classified for this image (swarm repeats are warm repeats of it): agent clock and engine time. */
  lastPull?: { at: number; eventTimeMs: number };
  /**
   * Engine time (ms) by which the image was certainly stored: the engine's clock read just after the
   * list that first showed it. Compared with the engine time of a pull event (no skew, no agent lag).
   */
  seenByEngineAt?: number;
  /** Build time, seconds since the epoch (engine's word; never used for age). */
  created: number;
}

export interface ContainerEntry {
  id: string;
  name: string;
  /** '' until known: a container seen only in its create event, whose image the model could not resolve. */
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
  /** A create or update whose convergence is still to be reported. */
  awaiting?: ConvergeWatch;
  /** Tasks that failed or were rejected while it was not converged. */
  failingTasks: number;
}

/**
 * A service create or update waiting to be seen stable: running = desired and no update in progress,
 * either after it was seen unsettled or held for a settle period (a list taken just after an update can
 * still show the old tasks running).
 */
export interface ConvergeWatch {
  /** Agent clock of the create/update event (the earliest, when several came). */
  since: number;
  cause: 'create' | 'update';
  sawUnsettled: boolean;
  /** Agent clock when it was first seen stable since the event. */
  stableSince?: number;
}

export type PullClass = 'cold' | 'partial' | 'warm' | 'unknown';

/** A pull event waiting for its image to be inspected. */
export interface PendingPull {
  ref: string;
  /** Order of the event among all pulls (an inspect answers only for the events it started after). */
  seq: number;
  /** Agent clock when the event was applied. */
  at: number;
  /** Engine time of the event, ms. */
  eventTimeMs: number;
  /** The image the ref pointed at in the model when the event came, if any (for `upToDate`). */
  pointedAt?: string;
  /** Run stacks live when the event came. */
  stacks: string[];
  /** Set when its ref was inspected; it is classified once every earlier pull is. */
  resolved?: { image: ImageDetail | null; deletedSince?: boolean; error?: string };
}

/** A classified pull, kept for a while so a converging service can name the pulls made for it. */
export interface RecentPull {
  ref: string;
  image?: string;
  class: PullClass;
  /** Agent clock of the event. */
  at: number;
  /** Engine time of the event (the `at` of its `pull` record). */
  eventTimeMs: number;
  repeat: boolean;
  newLayers: number;
  bytesDownloaded: number;
}

/** Pulls per registry in one-minute buckets over the budget window, and the last level reported. */
export interface RegistryWindow {
  /** Minute index (agent clock / 60 000) → pulls in that minute. */
  buckets: Map<number, number>;
  reported: 'ok' | 'near' | 'exceeded';
  lastAt: number;
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

/**
 * The refs the model's images answer to, parsed, each to the id holding it, or to the ids in the order
 * they came when several do (src/model/images/ref-index.ts keeps it).
 */
export interface RefIndex {
  byKey: Map<string, string | string[]>;
}

export interface Model {
  sync: SyncState;
  engine?: EngineInfo;
  images: Map<string, ImageEntry>;
  /** The images' tags and digests, parsed, to the ids holding each (src/model/images/ref-index.ts). */
  refIndex: RefIndex;
  /** Reference counts of layers (diff ids) over all images in the model. */
  layers: Map<string, number>;
  /** Reference counts of layer chains (ChainIDs): a layer is on the host when its chain is. */
  chains: Map<string, number>;
  containers: Map<string, ContainerEntry>;
  services: Map<string, ServiceEntry>;
  /** Live containers (running, restarting, paused) per stack. */
  stackContainers: Map<string, { kind: 'swarm' | 'compose'; live: number }>;
  /** Services that keep their stack live (they want tasks or still run some), per stack; kept by putServices. */
  stackServices: Map<string, number>;
  /** Stacks gained or lost by stackContainers or stackServices, counted; bumped by their writers. */
  stackChanges: number;
  /** `stackChanges` and the size of liveStacks when settleStacks last brought liveStacks in step. */
  stacksSettled: { changes: number; size: number };
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
    /** The activity before the stream connected could not be replayed: busy until `until` (agent clock). */
    unknown?: { detail: string; until: number };
  };
  /**
   * Pull events not classified yet, by sequence number, in event order (swarm sends one per task). Each
   * is classified only after every earlier one, so "the layers held before it" does not depend on which
   * inspect answered first.
   */
  pendingPulls: Map<number, PendingPull>;
  /** Sequence number of the last pull event applied. */
  pullSeq: number;
  /** The last classified pulls (bounded), for service convergence records. */
  recentPulls: RecentPull[];
  /** Rolling pull counts per registry, for the pull budget. */
  pullWindows: Map<string, RegistryWindow>;
  /** Sizes of layers (diff id → bytes) learnt from images whose history lines up; same keys as `layers`. */
  layerBytes: Map<string, number>;
  /** Create/update events of services the model has not listed yet, by service id. */
  serviceWatches: Map<string, ConvergeWatch>;
  /** Images the agent's own executor is removing, until its DELETE answered (model/own-removals.ts). */
  ownRemovals: Map<string, OwnRemoval>;
  /** External evictions waiting to learn their activity (a `prune` event may close their burst). */
  heldEvictions?: HeldEvictions;
  /** Recent evictions by image id, repo:tag and repo@digest, to link a later cold re-pull to its cause. */
  evictionMemory: EvictionMemory;
}

/** What the model is told. `at` is the agent's clock when the input is applied. */
export type ModelInput =
  | { kind: 'event'; event: EngineEvent }
  | { kind: 'snapshot'; snapshot: EngineSnapshot; reason: string; startedAt?: number }
  | {
      kind: 'images';
      images: ImageDetail[];
      /** The engine's clock read after the list, when it showed images the model did not have. */
      engineTimeMs?: number;
    }
  | { kind: 'containers'; containers: ContainerInfo[] }
  /**
   * One image an event named as new (image `create`, API ≥ 1.46), inspected: null when it was gone.
   * `engineTimeMs` is the event's engine time, by which the image was stored.
   */
  | { kind: 'image'; id: string; image: ImageDetail | null; engineTimeMs: number }
  | { kind: 'container'; id: string; container: ContainerInfo | null }
  | { kind: 'services'; services: ServiceInfo[]; tasks: TaskInfo[] }
  | {
      kind: 'pull.resolved';
      ref: string;
      /** The inspect of the ref; null when the image was gone (or the inspect failed: see `error`). */
      image: ImageDetail | null;
      /** The inspect started after pull events up to this sequence number (all pending, when absent). */
      upTo?: number;
      /** The image was deleted after the inspect read it: classify the pull, keep the image out. */
      deletedSince?: boolean;
      error?: string;
    }
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
  | { kind: 'refresh.failed'; what: string; message: string }
  | RecentActivity;

/**
 * The latest pull and container start before the stream connected, from the engine's replay, on the
 * agent's clock (src/streams/recent-activity.ts); or why they are unknown, and until when that holds.
 */
export interface RecentActivity {
  kind: 'recent-activity';
  pull?: { at: number; ref: string };
  containerStart?: { at: number; id: string };
  unknown?: { detail: string; until: number };
}

/** Work the reducer asks the streams layer to do (coalesced by key, never inline). */
export type Want =
  | { kind: 'list-images' }
  | { kind: 'list-containers' }
  | { kind: 'inspect-container'; id: string }
  | { kind: 'inspect-image'; id: string; eventTimeMs: number }
  | { kind: 'list-services'; delayMs?: number }
  | { kind: 'resolve-pull'; ref: string }
  /** Push `evictions.settle` after this delay, replacing any earlier request (a timer, not a list). */
  | { kind: 'settle-evictions'; delayMs: number }
  | { kind: 'resync'; reason: string }
  /** The state file holds another engine's clocks: move it aside (the agent owns the file, not the loop). */
  | { kind: 'set-state-aside' };

/** A record the reducer makes: one of the documented records (src/records/record-types.ts). */
export type Note = LogRecord;

export interface Step {
  notes: Note[];
  wants: Want[];
}
