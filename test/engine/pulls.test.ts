/**
 * Pull evidence on a real engine: every class the agent gives is checked against the puller's own
 * progress output (`Pull complete` / `Already exists` / `Image is up to date`), and the bytes against
 * the layer sizes the test wrote.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AgentUnderTest, type LogRecord } from './agent-log.js';
import { type Engine, type PullResult, startEngine, waitFor } from './harness.js';

interface PullRecord extends LogRecord {
  ref: string;
  image: string;
  class: string;
  upToDate?: boolean;
  repeatOf?: string;
  previous?: string;
  layers: { total: number; new: number };
  bytes: { downloaded: number; reused: number; known: boolean };
}

/** The agent's class and layer counts must say what the puller printed. */
function assertMatchesTruth(record: PullRecord, truth: PullResult): void {
  const pulled = truth.layers.filter((l) => l.outcome === 'Pull complete').length;
  assert.equal(record.class, truth.kind, truth.output);
  assert.equal(record.layers.new, pulled, truth.output);
  if (truth.status === 'Image is up to date') assert.equal(record.upToDate, true);
  else assert.equal(record.layers.total, truth.layers.length, truth.output);
}

describe('pull evidence on a real engine', { timeout: 600_000 }, () => {
  let engine: Engine;
  let lw: AgentUnderTest;
  let app1: string;
  let sizeApp1: number;

  /** `docker pull` (the ground truth) and the agent's record of that pull. */
  async function pull(ref: string): Promise<{ truth: PullResult; record: PullRecord }> {
    const mark = lw.mark;
    const truth = await engine.pullWithProgress(ref);
    const record = (await lw.next((r) => r.event === 'pull' && r.ref === ref, mark)) as PullRecord;
    return { truth, record };
  }
  const inspect = (ref: string, field: string) =>
    engine.dockerOk(['image', 'inspect', '--format', `{{${field}}}`, ref]);

  before(async () => {
    engine = await startEngine();
    // A short resync: periodic re-lists race the pulls, as they would on a busy host.
    lw = await AgentUnderTest.start(engine.dockerHost, { resync: '2s' });
  });

  after(async () => {
    try {
      await lw?.stop();
    } finally {
      await engine?.stop();
    }
  });

  it('a cold pull of a multi-layer image: every layer downloaded, bytes = the image size', async () => {
    app1 = `${engine.registry}/lw/app:1`;
    await engine.buildImage(app1, [
      { file: 'a.bin', bytes: 3000 },
      { file: 'b.bin', bytes: 5000 },
      { file: 'c.bin', bytes: 700 },
    ]);
    await engine.push(app1);
    await engine.dockerOk(['rmi', app1, 'lw-base:latest']);
    assert.equal(await engine.dockerOk(['images', '-aq']), '', 'nothing left that could share a layer');

    const { truth, record } = await pull(app1);
    assertMatchesTruth(record, truth);
    assert.equal(record.class, 'cold');
    assert.deepEqual(record.layers, { total: 4, new: 4 });
    sizeApp1 = Number(await inspect(app1, '.Size'));
    assert.deepEqual(record.bytes, { downloaded: sizeApp1, reused: 0, known: true });
    assert.equal(record.image, await inspect(app1, '.Id'));
    assert.equal(record.registry, engine.registry);
  });

  it('a warm repeat: nothing downloaded, up to date', async () => {
    const { truth, record } = await pull(app1);
    assert.equal(truth.status, 'Image is up to date');
    assertMatchesTruth(record, truth);
    assert.deepEqual(record.bytes, { downloaded: 0, reused: sizeApp1, known: true });
  });

  it('a partial pull of a new image sharing the base layers: only the new layer counted', async () => {
    const app2 = `${engine.registry}/lw/app:2`;
    await engine.buildImage(app2, [
      { file: 'a.bin', bytes: 3000 }, // the same layer as in app:1
      { file: 'd.bin', bytes: 4321 },
    ]);
    await engine.push(app2);
    await engine.dockerOk(['rmi', app2, 'lw-base:latest']);

    const { truth, record } = await pull(app2);
    assert.equal(truth.kind, 'partial');
    assertMatchesTruth(record, truth);
    assert.deepEqual(record.layers, { total: 3, new: 1 });
    assert.deepEqual(record.bytes, {
      downloaded: 4321,
      reused: Number(await inspect(app2, '.Size')) - 4321,
      known: true,
    });
  });

  it('a pull by digest: partial, then up to date', async () => {
    const tagRef = `${engine.registry}/lw/app:3`;
    await engine.buildImage(tagRef, [{ file: 'e.bin', bytes: 2500 }]);
    const digest = await engine.push(tagRef);
    await engine.dockerOk(['rmi', tagRef, 'lw-base:latest']);
    const ref = `${engine.registry}/lw/app@${digest}`;

    const first = await pull(ref);
    assertMatchesTruth(first.record, first.truth);
    assert.equal(first.record.class, 'partial');
    assert.equal(first.record.bytes.downloaded, 2500);
    assert.equal(first.record.image, await inspect(ref, '.Id'));

    const again = await pull(ref);
    assertMatchesTruth(again.record, again.truth);
    assert.equal(again.record.class, 'warm');
  });

  it('the same layer on another parent is downloaded again: counted new (chains, not diff ids)', async () => {
    const local = `${engine.registry}/lw/local:1`;
    await engine.buildImage(local, [
      { file: 'x.bin', bytes: 900 },
      { file: 'c.bin', bytes: 1800 },
    ]);
    const other = `${engine.registry}/lw/app:9`;
    await engine.buildImage(other, [
      { file: 'y.bin', bytes: 700 },
      { file: 'c.bin', bytes: 1800 }, // the same diff id as in local:1, on another parent
    ]);
    await engine.push(other);
    await engine.dockerOk(['rmi', other]);

    const { truth, record } = await pull(other);
    assert.deepEqual(
      truth.layers.map((l) => l.outcome),
      ['Already exists', 'Pull complete', 'Pull complete'],
    );
    assertMatchesTruth(record, truth);
    assert.deepEqual(record.bytes, {
      downloaded: 2500,
      reused: Number(await inspect(other, '.Size')) - 2500,
      known: true,
    });
  });

  it('a tag that moves to a new image: partial, and the old image is untagged in the model', async () => {
    const oldId = await inspect(app1, '.Id');
    // Publish a new app:1, then put the local tag back on the old image, as a host that has not pulled yet.
    const newId = await engine.buildImage(app1, [
      { file: 'a.bin', bytes: 3000 },
      { file: 'f.bin', bytes: 1234 },
    ]);
    await engine.push(app1);
    await engine.dockerOk(['tag', oldId, app1]);
    await engine.dockerOk(['rmi', newId, 'lw-base:latest']);
    await waitFor(() => lw.agent.model()?.images.get(oldId)?.tags.includes(app1), 10_000, {
      message: `model sees ${app1} on the old image`,
    });

    const { truth, record } = await pull(app1);
    assert.equal(truth.status, 'Downloaded newer image');
    assertMatchesTruth(record, truth);
    assert.equal(record.class, 'partial');
    assert.equal(record.previous, oldId);
    assert.equal(record.bytes.downloaded, 1234);
    const model = lw.agent.model()!;
    assert.deepEqual(model.images.get(oldId)?.tags, [], 'the old image lost its tag');
    assert.ok(model.images.get(oldId)?.untaggedSince !== undefined);
    assert.deepEqual(model.images.get(record.image)?.tags, [app1]);
  });
});
