import { Observable, type Subscriber } from 'rxjs';
import type { DockerPort, EventsFrame, EventsQuery } from '../../src/docker/port.js';
import type {
  ContainerInfo,
  EngineInfo,
  ImageDetail,
  RemoveOutcome,
  ServiceInfo,
  TaskInfo,
} from '../../src/docker/types.js';

/** One events connection the code under test opened. */
export interface FakeConnection {
  query: EventsQuery;
  at: number;
  sub: Subscriber<EventsFrame>;
  closed: boolean;
}

export type PingBehaviour = 'ok' | 'hang' | 'fail';

/** The wire shape of an engine event (API 1.41 without the legacy fields, as API 1.52 sends it). */
export interface WireEvent {
  Type: string;
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
  scope: string;
  time: number;
  timeNano: string;
}

const INFO: EngineInfo = {
  id: 'FAKE:ENGINE',
  name: 'fake',
  serverVersion: '20.10.24',
  apiVersion: '1.41',
  dockerRootDir: '/var/lib/docker',
  imageStore: 'graphdriver' as const,
  swarm: 'inactive',
  isManager: false,
};

/**
 * A scripted DockerPort: events connections the test drives by hand, pings that answer, hang or fail,
 * and lists answered from a simulated engine state. Lists capture the state when called (as the engine
 * does) and answer when `gate` lets them, so a test can hold a list while events happen.
 */
export class FakePort implements DockerPort {
  readonly conns: FakeConnection[] = [];
  readonly pings: Array<{ at: number; resolve: () => void; reject: (e: unknown) => void }> = [];
  readonly calls = new Map<string, number>();
  ping$: PingBehaviour = 'ok';
  /** What a new events connection does: by default it opens at once. */
  onConnect: (c: FakeConnection) => void = (c) => c.sub.next({ kind: 'open' });
  gate: Promise<void> = Promise.resolve();
  images = new Map<string, ImageDetail>();
  containers = new Map<string, ContainerInfo>();
  services: ServiceInfo[] = [];
  tasks: TaskInfo[] = [];
  private nano = 1_700_000_000_000_000_000n;

  constructor(private readonly now: () => number) {}

  private count(what: string) {
    this.calls.set(what, (this.calls.get(what) ?? 0) + 1);
  }

  callsOf(what: string): number {
    return this.calls.get(what) ?? 0;
  }

  /** Holds every list and inspect until the returned function is called. */
  hold(): () => void {
    let release!: () => void;
    this.gate = new Promise<void>((r) => {
      release = r;
    });
    return () => {
      this.gate = Promise.resolve();
      release();
    };
  }

  private async answer<T>(what: string, value: T): Promise<T> {
    this.count(what);
    const v = structuredClone(value);
    await this.gate;
    return v;
  }

  get last(): FakeConnection {
    const c = this.conns.at(-1);
    if (!c) throw new Error('no events connection yet');
    return c;
  }

  /** A wire event with the next engine time. */
  event(type: string, action: string, id: string, attributes: Record<string, string> = {}): WireEvent {
    this.nano += 1_000_123n;
    return {
      Type: type,
      Action: action,
      Actor: { ID: id, Attributes: attributes },
      scope: 'local',
      time: Number(this.nano / 1_000_000_000n),
      timeNano: this.nano.toString(),
    };
  }

  /** Sends raw text on the newest open connection. */
  send(text: string, conn: FakeConnection = this.last): void {
    if (!conn.closed) conn.sub.next({ kind: 'data', chunk: Buffer.from(text) });
  }

  emit(...events: WireEvent[]): void {
    this.send(events.map((e) => `${wireLine(e)}\n`).join(''));
  }

  events(query: EventsQuery): Observable<EventsFrame> {
    return new Observable<EventsFrame>((sub) => {
      const conn: FakeConnection = { query, at: this.now(), sub, closed: false };
      this.conns.push(conn);
      this.onConnect(conn);
      return () => {
        conn.closed = true;
      };
    });
  }

  ping(): Promise<void> {
    this.count('ping');
    if (this.ping$ === 'ok') return Promise.resolve();
    if (this.ping$ === 'fail')
      return Promise.reject(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }));
    return new Promise<void>((resolve, reject) => this.pings.push({ at: this.now(), resolve, reject }));
  }

  info(): Promise<EngineInfo> {
    return this.answer('info', INFO);
  }
  listImages() {
    return this.answer(
      'listImages',
      [...this.images.values()].map(({ layers: _l, layerSizes: _s, ...info }) => info),
    );
  }
  inspectImage(idOrRef: string) {
    const hit =
      this.images.get(idOrRef) ?? [...this.images.values()].find((i) => i.tags.includes(idOrRef)) ?? null;
    return this.answer('inspectImage', hit);
  }
  listContainers() {
    return this.answer('listContainers', [...this.containers.values()]);
  }
  inspectContainer(id: string) {
    return this.answer('inspectContainer', this.containers.get(id) ?? null);
  }
  listServices() {
    return this.answer('listServices', this.services);
  }
  listTasks() {
    return this.answer('listTasks', this.tasks);
  }
  removeImage(): Promise<RemoveOutcome> {
    throw new Error('not scripted');
  }
  removeContainer(): Promise<RemoveOutcome> {
    throw new Error('not scripted');
  }
  pruneBuildCache(): Promise<{ reclaimed: number }> {
    throw new Error('not scripted');
  }
}

/** The line the engine would send: timeNano is a bare number there (above 2^53, so written by hand). */
export function wireLine(e: WireEvent): string {
  return JSON.stringify(e).replace(/"timeNano":"(\d+)"/, '"timeNano":$1');
}

export function image(n: number, tags: string[] = [`app:${n}`]): ImageDetail {
  const id = `sha256:${n.toString(16).padStart(64, '0')}`;
  return { id, tags, digests: [], size: 100, created: 1_600_000_000, layers: [`sha256:layer-${n}`] };
}

export function container(
  n: number,
  imageId: string,
  state: ContainerInfo['state'] = 'running',
): ContainerInfo {
  return {
    id: `c${n.toString(16).padStart(63, '0')}`,
    name: `c${n}`,
    imageId,
    image: imageId,
    state,
    created: 1_700_000_000,
    labels: {},
  };
}

export const refused = () =>
  Object.assign(new Error('connect ECONNREFUSED /x.sock'), { code: 'ECONNREFUSED' });
