/**
 * An in-memory engine behind the DockerPort interface, for runs far longer than a real engine allows on
 * this machine (1,000,000 events): it answers lists and inspects from its own state at once, and its
 * events are lines of the real engine's shapes (bench/synth-events.ts) produced by a churn workload.
 */
import { Observable, type Subscriber } from 'rxjs';
import type { DockerPort, EventsFrame } from '../src/docker/port.js';
import type { ContainerInfo, ImageDetail, ServiceInfo, TaskInfo } from '../src/docker/types.js';

const copy = (image: ImageDetail): ImageDetail => ({
  ...image,
  tags: [...image.tags],
  digests: [...image.digests],
});

export class SimEngine implements DockerPort {
  readonly images = new Map<string, ImageDetail>();
  readonly containers = new Map<string, ContainerInfo>();
  services: ServiceInfo[] = [];
  tasks: TaskInfo[] = [];
  private readonly subscribers = new Set<Subscriber<EventsFrame>>();
  private readonly encoder = new TextEncoder();
  /** Stopped (a daemon restart): the events stream fails and every call is refused until `start`. */
  private stopped = false;
  /**
   * When set, an image removal is published as the engine does, before it answers: one `untag` per
   * reference, then `delete` (the lines this returns for the image at the moment of removal).
   */
  removalEvents?: (image: ImageDetail) => string[];

  /** A daemon stop: open event streams fail, calls are refused until `start`. */
  stop(): void {
    this.stopped = true;
    for (const s of [...this.subscribers])
      s.error(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
    this.subscribers.clear();
  }
  start(): void {
    this.stopped = false;
  }
  private check(): void {
    if (this.stopped) throw Object.assign(new Error('connect ENOENT /sim.sock'), { code: 'ENOENT' });
  }

  /** Sends lines to every events subscriber as one chunk, as a busy engine's socket delivers them. */
  send(lines: readonly string[]): void {
    if (lines.length === 0) return;
    const chunk = this.encoder.encode(`${lines.join('\n')}\n`);
    for (const s of this.subscribers) s.next({ kind: 'data', chunk });
  }

  events(): Observable<EventsFrame> {
    return new Observable<EventsFrame>((out) => {
      if (this.stopped) {
        queueMicrotask(() =>
          out.error(Object.assign(new Error('connect ENOENT /sim.sock'), { code: 'ENOENT' })),
        );
        return;
      }
      this.subscribers.add(out);
      queueMicrotask(() => out.next({ kind: 'open' }));
      return () => this.subscribers.delete(out);
    });
  }
  async ping(): Promise<void> {
    this.check();
  }
  async info() {
    this.check();
    return {
      id: 'SIM0:SIM0',
      name: 'sim',
      serverVersion: 'sim',
      apiVersion: '1.41',
      dockerRootDir: '/var/lib/docker',
      imageStore: 'graphdriver' as const,
      swarm: 'active' as const,
      isManager: true,
    };
  }
  // Answers are copies, as a real engine's JSON is: the workloads move tags in place (tags.push).
  async listImages() {
    this.check();
    return [...this.images.values()].map(({ id, tags, digests, size, created }) => ({
      id,
      tags: [...tags],
      digests: [...digests],
      size,
      created,
    }));
  }
  async inspectImage(idOrRef: string) {
    this.check();
    const byId = this.images.get(idOrRef);
    if (byId) return copy(byId);
    // By digest (`repo[:tag]@sha256:…`, as swarm pulls): the image holding `repo@sha256:…`.
    const at = idOrRef.indexOf('@');
    const name = at < 0 ? idOrRef : idOrRef.slice(0, at);
    const colon = name.lastIndexOf(':');
    const repo = colon > name.lastIndexOf('/') ? name.slice(0, colon) : name;
    const digestRef = at < 0 ? undefined : `${repo}${idOrRef.slice(at)}`;
    for (const image of this.images.values())
      if (digestRef ? image.digests.includes(digestRef) : image.tags.includes(idOrRef)) return copy(image);
    return null;
  }
  async listContainers() {
    this.check();
    return [...this.containers.values()].map((c) => {
      const { finishedAt: _, ...summary } = c;
      return summary;
    });
  }
  async inspectContainer(id: string) {
    this.check();
    const c = this.containers.get(id);
    return c ? { ...c } : null;
  }
  async listServices() {
    this.check();
    return this.services.map((s) => ({ ...s }));
  }
  async listTasks() {
    this.check();
    return this.tasks.map((t) => ({ ...t }));
  }
  async removeImage(id: string) {
    this.check();
    const image = this.images.get(id);
    if (!image) return { kind: 'gone' as const };
    for (const c of this.containers.values())
      if (c.imageId === id) return { kind: 'conflict' as const, message: `image is being used by ${c.id}` };
    this.images.delete(id);
    if (this.removalEvents) this.send(this.removalEvents(image));
    return { kind: 'removed' as const };
  }
  async removeContainer(id: string) {
    this.check();
    return this.containers.delete(id) ? { kind: 'removed' as const } : { kind: 'gone' as const };
  }
  async pruneBuildCache() {
    return { reclaimed: 0 };
  }
}
