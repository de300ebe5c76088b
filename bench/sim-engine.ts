/**
 * An in-memory engine behind the DockerPort interface, for runs far longer than a real engine allows on
 * this machine (1,000,000 events): it answers lists and inspects from its own state at once, and its
 * events are lines of the real engine's shapes (bench/synth-events.ts) produced by a churn workload.
 */
import { Observable, type Subscriber } from 'rxjs';
import type { DockerPort, EventsFrame } from '../src/docker/port.js';
import type { ContainerInfo, ImageDetail, ServiceInfo, TaskInfo } from '../src/docker/types.js';

export class SimEngine implements DockerPort {
  readonly images = new Map<string, ImageDetail>();
  readonly containers = new Map<string, ContainerInfo>();
  services: ServiceInfo[] = [];
  tasks: TaskInfo[] = [];
  private readonly subscribers = new Set<Subscriber<EventsFrame>>();
  private readonly encoder = new TextEncoder();

  /** Sends lines to every events subscriber as one chunk, as a busy engine's socket delivers them. */
  send(lines: readonly string[]): void {
    if (lines.length === 0) return;
    const chunk = this.encoder.encode(`${lines.join('\n')}\n`);
    for (const s of this.subscribers) s.next({ kind: 'data', chunk });
  }

  events(): Observable<EventsFrame> {
    return new Observable<EventsFrame>((out) => {
      this.subscribers.add(out);
      queueMicrotask(() => out.next({ kind: 'open' }));
      return () => this.subscribers.delete(out);
    });
  }
  async ping(): Promise<void> {}
  async info() {
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
  async listImages() {
    return [...this.images.values()].map(({ id, tags, digests, size, created }) => ({
      id,
      tags,
      digests,
      size,
      created,
    }));
  }
  async inspectImage(idOrRef: string) {
    const byId = this.images.get(idOrRef);
    if (byId) return { ...byId };
    for (const image of this.images.values()) if (image.tags.includes(idOrRef)) return { ...image };
    return null;
  }
  async listContainers() {
    return [...this.containers.values()].map((c) => {
      const { finishedAt: _, ...summary } = c;
      return summary;
    });
  }
  async inspectContainer(id: string) {
    const c = this.containers.get(id);
    return c ? { ...c } : null;
  }
  async listServices() {
    return this.services.map((s) => ({ ...s }));
  }
  async listTasks() {
    return this.tasks.map((t) => ({ ...t }));
  }
  async removeImage(id: string) {
    return this.images.delete(id) ? { kind: 'removed' as const } : { kind: 'gone' as const };
  }
  async removeContainer(id: string) {
    return this.containers.delete(id) ? { kind: 'removed' as const } : { kind: 'gone' as const };
  }
  async pruneBuildCache() {
    return { reclaimed: 0 };
  }
}
