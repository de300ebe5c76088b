import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Subject } from 'rxjs';
import type { DockerPort, EventsFrame } from '../../src/docker/port.js';
import { ALL_STACKS_ARE_RUNS } from '../../src/model/services/stacks.js';
import { createModelLoop } from '../../src/streams/model-loop.js';
import { ENGINE } from '../builders.js';

describe('model loop: pending work', () => {
  it('counts a full list in flight and the events held during it', async () => {
    const frames = new Subject<EventsFrame>();
    let releaseList: () => void = () => {};
    const listGate = new Promise<void>((r) => {
      releaseList = r;
    });
    const port = {
      events: () => frames.asObservable(),
      ping: async () => {},
      info: async () => ENGINE,
      listImages: async () => {
        await listGate;
        return [];
      },
      inspectImage: async () => null,
      listContainers: async () => [],
      inspectContainer: async () => null,
      listServices: async () => [],
      listTasks: async () => [],
    } as unknown as DockerPort;
    const loop = createModelLoop({ port, policy: ALL_STACKS_ARE_RUNS });
    const sub = loop.ticks$.subscribe();
    frames.next({ kind: 'open' });
    await new Promise((r) => setImmediate(r));
    assert.equal(loop.queueDepth(), 1, 'the full list after connect is pending');
    const line =
      '{"Type":"container","Action":"start","Actor":{"ID":"c1","Attributes":{}},"time":1,"timeNano":1000000001}\n';
    frames.next({ kind: 'data', chunk: new TextEncoder().encode(line) });
    assert.equal(loop.queueDepth(), 2, 'an event held back while listing is pending work too');
    releaseList();
    await new Promise((r) => setTimeout(r, 20));
    // The held start asked for an inspect, which has finished by now: nothing is left.
    assert.equal(loop.queueDepth(), 0);
    sub.unsubscribe();
  });
});
