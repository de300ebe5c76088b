import type { Observable } from 'rxjs';
import type {
  ContainerInfo,
  EngineInfo,
  ImageDetail,
  ImageInfo,
  ImageRemoveOutcome,
  RemoveOutcome,
  ServiceInfo,
  TaskInfo,
} from './types.js';

/** The events connection opened (the engine sends nothing until an event happens), or bytes arrived. */
export type EventsFrame = { kind: 'open' } | { kind: 'data'; chunk: Uint8Array };

export interface EventsQuery {
  /** Inclusive lower bound, `<sec>.<nanosec>`. */
  since?: string;
  /** Upper bound, `<sec>.<nanosec>`; the stream ends with `end` when reached. */
  until?: string;
}

/**
 * The one narrow interface in front of Docker. Only src/docker/engine-port.ts implements it
 * against the engine; tests may script it.
 */
export interface DockerPort {
  /**
   * The events stream: `open` once connected, then raw bytes. Completes when the engine ends the stream
   * (only with `until`), errors when the connection fails or drops. Unsubscribing closes the connection.
   */
  events(query: EventsQuery): Observable<EventsFrame>;
  /** Resolves when the engine answers `_ping` within the timeout, rejects otherwise. */
  ping(timeoutMs: number): Promise<void>;
  info(): Promise<EngineInfo>;
  listImages(): Promise<ImageInfo[]>;
  /** By id or ref; null when the engine has no such image. */
  inspectImage(idOrRef: string): Promise<ImageDetail | null>;
  listContainers(): Promise<ContainerInfo[]>;
  /** Null when the container is gone. */
  inspectContainer(id: string): Promise<ContainerInfo | null>;
  /** Empty when this node is not a swarm manager. */
  listServices(): Promise<ServiceInfo[]>;
  /** Empty when this node is not a swarm manager. */
  listTasks(): Promise<TaskInfo[]>;
  /**
   * Never forced, never prunes parents' tags: a plain DELETE /images/{id or ref}. By id it deletes the
   * image (or is refused); by a reference (`repo@sha256:…`) the engine untags it, and deletes the image
   * only when it was its last reference: `untagged` says the image stays.
   */
  removeImage(idOrRef: string): Promise<ImageRemoveOutcome>;
  /** Never forced, never removes volumes. */
  removeContainer(id: string): Promise<RemoveOutcome>;
  /** Builder prune of cache unused for `untilHours`; returns the bytes the engine says it reclaimed. */
  pruneBuildCache(untilHours: number): Promise<{ reclaimed: number }>;
}
