/**
 * Our own types for what the engine reports, decoded at the edge (src/docker/decode.ts).
 * Nothing outside src/docker sees wire JSON.
 */

/** Attribute keys we read from events. Labels merge into attributes, so any key can appear: read only these. */
export const KNOWN_ATTRIBUTES = [
  'name',
  'image',
  'exitCode',
  'signal',
  'reclaimed',
  'container',
  'type',
  'com.docker.stack.namespace',
  'com.docker.compose.project',
  'com.docker.swarm.service.id',
  'com.docker.swarm.service.name',
  'com.docker.swarm.task.id',
  'replicas.old',
  'replicas.new',
  'image.old',
  'image.new',
  'updatestate.old',
  'updatestate.new',
] as const;
export type KnownAttribute = (typeof KNOWN_ATTRIBUTES)[number];

export interface EngineEvent {
  type: string;
  action: string;
  actorId: string;
  attributes: Partial<Record<KnownAttribute, string>>;
  scope: string;
  /** Engine time in milliseconds (from timeNano). */
  timeMs: number;
  /** Exact decimal nanoseconds since the epoch, as the engine sent it (exceeds 2^53). */
  timeNano: string;
}

/** Container labels we keep (only the known keys). */
export interface KnownLabels {
  stackNamespace?: string;
  composeProject?: string;
  serviceId?: string;
  serviceName?: string;
  taskId?: string;
}

export interface ImageInfo {
  id: string;
  /** `repo:tag` refs. */
  tags: string[];
  /** `repo@sha256:…` refs. */
  digests: string[];
  size: number;
  /** Build time from the image config, seconds since the epoch. */
  created: number;
  /** Containers (any state) using it, as the engine counts them: listed at API ≥ 1.51, else unknown. */
  containers?: number;
}

export interface ImageDetail extends ImageInfo {
  /** RootFS diff ids, base first. */
  layers: string[];
  /** Size in bytes of each layer, aligned with `layers`, when the history tells; else undefined. */
  layerSizes?: number[];
}

export type ContainerState = 'created' | 'running' | 'paused' | 'restarting' | 'removing' | 'exited' | 'dead';

export interface ContainerInfo {
  id: string;
  name: string;
  imageId: string;
  /** The image string the container was created with (a ref or an id). */
  image: string;
  state: ContainerState;
  /** Seconds since the epoch. */
  created: number;
  labels: KnownLabels;
  /** Milliseconds since the epoch when it last stopped, when known (inspect or die event). */
  finishedAt?: number;
}

export interface ServiceInfo {
  id: string;
  name: string;
  /** Image of the spec as written (swarm pins it as `repo:tag@sha256:…`). */
  image: string;
  stack?: string;
  mode: 'replicated' | 'global' | 'other';
  desired: number;
  running: number;
  /** UpdateStatus.State: updating, paused, completed, rollback_started, rollback_paused, rollback_completed. */
  updateState?: string;
}

export interface TaskInfo {
  id: string;
  serviceId: string;
  desiredState: string;
  state: string;
  err?: string;
  containerId?: string;
  /** Milliseconds since the epoch of the last status change. */
  at: number;
}

export interface EngineInfo {
  id: string;
  name: string;
  serverVersion: string;
  /** The API version spoken with the engine (negotiated: src/docker/negotiate.ts), `major.minor`. */
  apiVersion: string;
  /** The versions the engine serves, from its unversioned `/version` (`min` absent on engines before 1.25). */
  apiRange?: { min?: string; max: string };
  dockerRootDir: string;
  swarm: 'active' | 'inactive' | 'pending' | 'error' | 'locked';
  isManager: boolean;
  /**
   * Where the engine keeps images: its own graphdriver store, or containerd's image store (snapshotters;
   * Docker 29's default on fresh installs, content under containerd's root, not DockerRootDir).
   */
  imageStore: 'graphdriver' | 'containerd';
  /** The engine's clock when it answered (`SystemTime`), ms: `since`/`until` of the events API are in its time. */
  systemTime?: number;
}

/** Everything a full list returns; the truth the model is diffed against. */
export interface EngineSnapshot {
  info: EngineInfo;
  images: ImageDetail[];
  containers: ContainerInfo[];
  services: ServiceInfo[];
  tasks: TaskInfo[];
}

export type RemoveOutcome =
  | { kind: 'removed' }
  | { kind: 'gone' }
  | { kind: 'conflict'; message: string }
  | { kind: 'failed'; message: string; status?: number };

/**
 * An image removal's answer. By a reference, the engine may only untag: it removes the reference named
 * and keeps the image while other references remain (its answer then lists no `Deleted`).
 */
export type ImageRemoveOutcome = RemoveOutcome | { kind: 'untagged' };
