/**
 * A real three-node swarm (scripts/private-cluster.sh): the agent's image built from the Dockerfile on
 * the manager and pushed to the cluster's registry, deploy/stack.yml deployed as written (only its
 * documented variables set), one agent per node. Then what each node's agent knows: a run spread over
 * the nodes, an eviction on one node, Prometheus aggregating the three. One cluster, started once.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ROOT, type Rec, buildAgentImage, records } from './agent-image.js';
import { createEnginePort } from '../../src/docker/engine-port.js';
import { startTestAgent } from './agent-under-test.js';
import { type Cluster, type ClusterNode, startCluster } from './cluster-harness.js';
import { livePrune } from './live-prune.js';
import { run, waitFor } from './harness.js';
import { type PromSetup, startPrometheus } from './prometheus-kit.js';

const BIN = path.join(ROOT, 'src/cli/bin.ts');
const STACK = 'layerwarden';
const RUN = 'ci1';

type Status = {
  engine: { id: string; manager: boolean; swarm: string } | null;
  busy: Array<{ reason: string; stack?: string }>;
  stacks: Array<{ name: string; run: boolean }>;
};

describe('a three-node swarm, one agent per node', { timeout: 900_000 }, () => {
  let cluster: Cluster;
  let work: string;
  let agentImage: string;
  let app: string;
  let side: string;
  let sidePinned: string;
  let appPinned: string;
  let late: string;
  let prom: PromSetup | undefined;
  /** Per node: the engine's ID and the agent task's container. */
  const engineId = new Map<number, string>();
  const agentCid = new Map<number, string>();

  const logsOf = async (n: ClusterNode): Promise<Rec[]> =>
    records(await n.engine.dockerOk(['logs', agentCid.get(n.index)!]));
  const status = async (n: ClusterNode): Promise<Status> => {
    const r = await cluster.inNode(n, ['curl', '-sS', '-m', '5', 'http://127.0.0.1:9465/v1/status']);
    if (r.code !== 0) throw new Error(`status of node ${n.index}: ${r.stderr}`);
    return JSON.parse(r.stdout) as Status;
  };
  const pullsOf = async (n: ClusterNode, ref: string) =>
    (await logsOf(n)).filter((r) => r.event === 'pull' && String(r.ref).startsWith(ref));

  before(async () => {
    cluster = await startCluster(3);
    work = await mkdtemp(path.join(os.tmpdir(), 'lw-cluster-work-'));
    const manager = cluster.manager;
    agentImage = `${cluster.registry}/layerwarden:test`;
    await buildAgentImage(manager, work, agentImage);
    await manager.push(agentImage);
    // The run's images, in the registry only, made before any agent starts (an image first seen
    // within seconds of a pull is taken for that pull's own result).
    app = `${cluster.registry}/lw/app:1`;
    side = `${cluster.registry}/lw/side:1`;
    await manager.buildImage(app, [
      { file: 'a1.bin', bytes: 6000 },
      { file: 'a2.bin', bytes: 900 },
    ]);
    await manager.buildImage(side, [{ file: 's1.bin', bytes: 3000 }]);
    appPinned = `${cluster.registry}/lw/app@${await manager.push(app)}`;
    sidePinned = `${cluster.registry}/lw/side@${await manager.push(side)}`;
    late = `${cluster.registry}/lw/late:1`;
    await manager.buildImage(late, [{ file: 'l1.bin', bytes: 2000 }]);
    await manager.push(late);
    await manager.dockerOk(['rmi', app, side, late, 'lw-base:latest']);
    for (const n of cluster.nodes)
      engineId.set(n.index, await n.engine.dockerOk(['info', '--format', '{{.ID}}']));

    await manager.dockerOk(['stack', 'deploy', '-c', path.join(ROOT, 'deploy/stack.yml'), STACK], {
      env: { LAYERWARDEN_IMAGE: agentImage, LAYERWARDEN_DOCKER_SOCKET: cluster.socketTemplate },
      timeoutMs: 120_000,
    });
    const byService = `label=com.docker.swarm.service.name=${STACK}_agent`;
    for (const n of cluster.nodes) {
      const cid = await waitFor(
        async () =>
          (await n.engine.dockerOk(['ps', '-q', '--filter', byService, '--filter', 'health=healthy'])) ||
          undefined,
        180_000,
        { intervalMs: 500, message: `the agent task on node ${n.index} is running and healthy` },
      );
      agentCid.set(n.index, cid);
    }
  });

  after(async () => {
    try {
      await prom?.stop();
      if (cluster) await cluster.manager.docker(['stack', 'rm', RUN, 'ci2', 'ci3', 'ci4', STACK]);
    } finally {
      await cluster?.stop();
      if (work) await rm(work, { recursive: true, force: true });
    }
  });

  it('runs one healthy agent task per node, each watching its own engine', async () => {
    const filters = encodeURIComponent(
      JSON.stringify({ service: [`${STACK}_agent`], 'desired-state': ['running'] }),
    );
    const tasks = JSON.parse((await cluster.manager.api(`/v1.41/tasks?filters=${filters}`)).body) as Array<{
      NodeID: string;
      Status: { State: string };
    }>;
    const nodeIds = await Promise.all(cluster.nodes.map((n) => cluster.nodeId(n)));
    assert.deepEqual(
      tasks
        .filter((t) => t.Status.State === 'running')
        .map((t) => t.NodeID)
        .sort(),
      [...nodeIds].sort(),
      'one running agent task on each node',
    );
    for (const n of cluster.nodes) {
      assert.equal(agentCid.get(n.index)!.split('\n').length, 1, `one agent on node ${n.index}`);
      const s = await status(n);
      assert.equal(s.engine?.id, engineId.get(n.index), `node ${n.index}'s agent sees its own engine`);
      assert.deepEqual([s.engine?.swarm, s.engine?.manager], ['active', n.index === 1]);
      assert.ok(!s.busy.some((b) => b.reason === 'run-stack-live' && b.stack === STACK));
      // Every record from the first engine info on names the node that wrote it.
      const logs = await logsOf(n);
      const first = logs.findIndex((r) => r.event === 'agent.start');
      assert.ok(first >= 0, 'agent.start, the engine having answered at start, names the node');
      assert.deepEqual(
        [...new Set(logs.slice(first).map((r) => (r.node as { id?: string } | undefined)?.id))],
        [engineId.get(n.index)],
      );
    }
    assert.equal(new Set(engineId.values()).size, 3, 'three engines');
  });

  it('a run over the nodes: each node pulls cold once, is busy while its task lives; the manager logs convergence', async () => {
    const compose = [
      'version: "3.8"',
      'services:',
      '  app:',
      `    image: ${app}`,
      '    deploy:',
      '      replicas: 3',
      '      placement:',
      '        max_replicas_per_node: 1',
      '  side:',
      `    image: ${side}`,
      '    deploy:',
      '      mode: global',
      '',
    ].join('\n');
    await cluster.manager.deployStack(RUN, compose);
    await cluster.manager.waitForStack(RUN, 120_000);
    for (const n of cluster.nodes) {
      for (const ref of [app, side]) {
        const pulls = await waitFor(
          async () => {
            const p = await pullsOf(n, ref);
            return p.length > 0 ? p : undefined;
          },
          30_000,
          { message: `node ${n.index} logged its pull of ${ref}` },
        );
        assert.equal(pulls.length, 1, `node ${n.index}: one pull of ${ref}`);
        assert.equal(
          (pulls[0]!.node as { id: string }).id,
          engineId.get(n.index),
          'written by its own agent',
        );
        // A manager knows the run from its services; a worker only once the task's container exists,
        // after its pull.
        assert.deepEqual(pulls[0]!.stacks, n.index === 1 ? [RUN] : [], `node ${n.index}: runs at the pull`);
      }
      // The two images share the base layer: the first to land on the node is cold, the other partial
      // (only the base found), on every node alike.
      const [first, second] = [...(await pullsOf(n, app)), ...(await pullsOf(n, side))].sort((a, b) =>
        String(a.at).localeCompare(String(b.at)),
      );
      assert.equal(first!.class, 'cold', `node ${n.index}: the first image cold`);
      const layers = second!.layers as { total: number; new: number };
      assert.deepEqual([second!.class, layers.new], ['partial', layers.total - 1], `node ${n.index}`);
      const s = await status(n);
      assert.ok(
        s.busy.some((b) => b.reason === 'run-stack-live' && b.stack === RUN),
        `node ${n.index} is busy while a task of the run lives on it`,
      );
    }
    const converged = async (n: ClusterNode) =>
      (await logsOf(n)).filter((r) => r.event === 'service.converged' && String(r.service).startsWith(RUN));
    const onManager = await waitFor(
      async () => {
        const c = await converged(cluster.nodes[0]!);
        return c.length >= 2 ? c : undefined;
      },
      30_000,
      { message: 'the manager logged both services converged' },
    );
    assert.deepEqual(onManager.map((r) => r.service).sort(), [`${RUN}_app`, `${RUN}_side`]);
    // The manager was busy while they converged (service-converging from create to every task
    // running), wherever the tasks ran; a worker never is for a service.
    const converging = async (n: ClusterNode) =>
      (await logsOf(n)).filter((r) => r.event === 'service.converging' && String(r.service).startsWith(RUN));
    assert.deepEqual((await converging(cluster.nodes[0]!)).map((r) => r.service).sort(), [
      `${RUN}_app`,
      `${RUN}_side`,
    ]);
    for (const w of cluster.nodes.slice(1)) {
      assert.deepEqual(await converged(w), [], `worker ${w.index} sees no services`);
      assert.deepEqual(await converging(w), []);
    }

    // Removed and deployed again: every node holds both images; nothing is pulled anywhere.
    await cluster.manager.removeStack(RUN);
    const before = await Promise.all(cluster.nodes.map((n) => logsOf(n).then((l) => l.length)));
    await cluster.manager.deployStack(RUN, compose);
    await cluster.manager.waitForStack(RUN, 120_000);
    const again = await waitFor(
      async () =>
        (await converged(cluster.nodes[0]!)).filter((r) => r.event === 'service.converged').slice(2),
      30_000,
      { message: 'the manager logged the redeploy converged' },
    );
    for (const r of again) assert.deepEqual([r.layersDownloaded, r.bytesDownloaded], [0, 0]);
    for (const [i, n] of cluster.nodes.entries()) {
      const since = (await logsOf(n)).slice(before[i]);
      assert.deepEqual(
        since.filter((r) => r.event === 'pull' && r.class !== 'warm'),
        [],
        `node ${n.index}: nothing downloaded on the redeploy`,
      );
    }

    // The global service updated to its tag, not a digest: Swarm pulls on every node again, and each
    // node's agent classifies its own pull warm (the image already there, nothing downloaded).
    const marks = await Promise.all(cluster.nodes.map((n) => logsOf(n).then((l) => l.length)));
    await cluster.manager.dockerOk(
      ['service', 'update', '--detach', '--force', '--no-resolve-image', '--image', side, `${RUN}_side`],
      { timeoutMs: 60_000 },
    );
    await cluster.manager.waitForStack(RUN, 120_000);
    for (const [i, n] of cluster.nodes.entries()) {
      const warm = await waitFor(
        async () => (await logsOf(n)).slice(marks[i]).find((r) => r.event === 'pull' && r.ref === side),
        30_000,
        { message: `node ${n.index} logged its pull of the tag` },
      );
      assert.deepEqual(
        [warm.class, (warm.bytes as { downloaded: number }).downloaded, (warm.node as { id: string }).id],
        ['warm', 0, engineId.get(n.index)],
      );
    }
  });

  it('an eviction on one worker is audited by that worker only', async () => {
    await cluster.manager.removeStack(RUN);
    const worker = cluster.nodes[2]!;
    // Swarm pulls by digest: the node holds the image under its digest only (ENGINE-FACTS 13).
    const id = await worker.engine.dockerOk(['image', 'inspect', '--format', '{{.Id}}', sidePinned]);
    await worker.engine.dockerOk(['rmi', id]);
    const eviction = await waitFor(
      async () => (await logsOf(worker)).find((r) => r.event === 'eviction' && r.image === id),
      30_000,
      { message: 'the worker audited the eviction' },
    );
    assert.equal(eviction.by, 'external');
    assert.equal((eviction.node as { id: string }).id, engineId.get(worker.index));
    for (const n of cluster.nodes.slice(0, 2))
      assert.ok(
        !(await logsOf(n)).some((r) => r.event === 'eviction' && r.image === id),
        `node ${n.index} audits no eviction of another node's image`,
      );
  });

  it("layerwarden report over the three nodes' logs: per node, the cluster, what a shared cache would serve", async () => {
    const files: string[] = [];
    const logs: Rec[][] = [];
    for (const n of cluster.nodes) {
      const text = await n.engine.dockerOk(['logs', agentCid.get(n.index)!]);
      const file = path.join(work, `node${n.index}.ndjson`);
      await writeFile(file, `${text}\n`);
      files.push(file);
      logs.push(records(text));
    }
    const r = await run(process.execPath, ['--import', 'tsx', BIN, 'report', ...files, '--json'], {
      timeoutMs: 60_000,
    });
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout) as {
      totals: { pulls: number };
      nodes: Array<{ node: { id: string; name: string }; totals: { pulls: number } }>;
      cluster: {
        nodes: Array<{ id: string; pulls: number; evictions: number }>;
        sharedCache: {
          pulls: number;
          bytes: number;
          byDay: Array<{ day: string; registry: string; pulls: number }>;
        };
      };
    };
    const pullsOfNode = logs.map((l) => l.filter((x) => x.event === 'pull'));
    assert.deepEqual(
      doc.nodes.map((n) => [n.node.id, n.totals.pulls]).sort(),
      cluster.nodes.map((n, i) => [engineId.get(n.index), pullsOfNode[i]!.length]).sort(),
      'one summary per node, keyed by engine id',
    );
    assert.equal(doc.totals.pulls, pullsOfNode.flat().length, 'the cluster summary counts every node');
    assert.equal(doc.cluster.nodes.find((n) => n.id === engineId.get(3))?.evictions, 1);
    // Here no image left a node before another pulled it: every download of an image after the first
    // node's pull of it is one a shared cache would have served.
    const downloads = pullsOfNode
      .flat()
      .filter((p) => ((p.bytes as { downloaded?: number })?.downloaded ?? 0) > 0);
    const expected = downloads.filter((p) =>
      pullsOfNode.some(
        (other, i) =>
          other !== pullsOfNode.find((l) => l.includes(p)) &&
          other.some((o) => o.image === p.image && String(o.at) < String(p.at)),
      ),
    );
    assert.ok(expected.length >= 4, 'two images, two later nodes each');
    assert.equal(doc.cluster.sharedCache.pulls, expected.length);
    assert.equal(
      doc.cluster.sharedCache.bytes,
      expected.reduce((a, p) => a + (p.bytes as { downloaded: number }).downloaded, 0),
    );
    assert.deepEqual(
      doc.cluster.sharedCache.byDay.map((d) => [d.registry, d.pulls]),
      [[cluster.registry, expected.length]],
    );
    const text = await run(process.execPath, ['--import', 'tsx', BIN, 'report', ...files], {
      timeoutMs: 60_000,
    });
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /Cluster: 3 nodes/);
    assert.match(
      text.stdout,
      new RegExp(`A shared pull-through cache would have served ${expected.length} pulls`),
    );
    await writeFile(path.join(work, 'report.txt'), text.stdout);
    if (process.env.LW_CLUSTER_REPORT_OUT) await writeFile(process.env.LW_CLUSTER_REPORT_OUT, text.stdout);
  });

  it('a prune on a worker while the manager deploys a run onto it: what happens, in figures', async (t) => {
    const manager = cluster.manager;
    const worker = cluster.nodes[1]!;
    const nodeId = await cluster.nodeId(worker);
    const appId = await worker.engine.dockerOk(['image', 'inspect', '--format', '{{.Id}}', appPinned]);
    // A second agent on the worker, in-process, driving the real prune (executor, settle barrier, idle
    // re-check before each removal) with every gate but idle opened: any unused untagged image goes.
    const ta = startTestAgent({
      dockerHost: worker.engine.dockerHost,
      stateFile: path.join(work, 'prune-agent-state.json'),
      flags: { ignoreStack: `^${STACK}$` },
    });
    try {
      await ta.waitForRecord((r) => r.event === 'model.resync', 30_000);
      const prune = livePrune(ta, {
        port: createEnginePort(worker.engine.dockerHost),
        minAgeMs: 0,
        diskHighPercent: 0,
      });
      const compose = [
        'version: "3.8"',
        'services:',
        '  app:',
        `    image: ${app}`,
        '    deploy:',
        '      replicas: 1',
        '      placement:',
        `        constraints: ["node.id == ${nodeId}"]`,
        '',
      ].join('\n');
      const t0 = Date.now();
      const deployed = manager.deployStack('ci2', compose).then(() => Date.now());
      const outcome = await prune();
      const pruned = Date.now();
      const tDeployed = await deployed;
      await manager.waitForStack('ci2', 120_000);
      const removed = (outcome.result?.removed ?? []).map((r) => r.id);
      const firstOnWorker = ta.events.find(
        (e) => e.at >= t0 && e.event.type === 'container' && e.event.action === 'create',
      );
      const firstPull = ta.events.find(
        (e) => e.at >= t0 && e.event.type === 'image' && e.event.action === 'pull',
      );
      const figures = {
        deployReturnedMs: tDeployed - t0,
        pruneDoneMs: pruned - t0,
        fired: outcome.evaluation.decision.fire,
        removed: removed.length,
        removedTheRunsImage: removed.includes(appId),
        firstPullMs: firstPull ? firstPull.at - t0 : undefined,
        firstContainerCreateMs: firstOnWorker ? firstOnWorker.at - t0 : undefined,
      };
      t.diagnostic(`prune during deploy: ${JSON.stringify(figures)}`);
      // Whatever the race gave, the run converged on the worker; an image of the run's that the prune
      // removed came back by a pull whose record names the eviction.
      const running = await worker.engine.dockerOk([
        'ps',
        '-q',
        '--filter',
        'label=com.docker.stack.namespace=ci2',
        '--filter',
        'status=running',
      ]);
      assert.equal(running.split('\n').filter(Boolean).length, 1);
      if (figures.removedTheRunsImage) {
        const again = await waitFor(
          async () =>
            (await logsOf(worker)).find(
              (r) => r.event === 'pull' && String(r.at) >= new Date(t0).toISOString(),
            ),
          30_000,
          { message: 'the worker pulled the run image back' },
        );
        assert.equal((again.afterEviction as { image?: string } | undefined)?.image, appId);
      }
      for (const id of removed)
        await waitFor(
          async () => (await logsOf(worker)).find((r) => r.event === 'eviction' && r.image === id),
          30_000,
          { message: `the worker's own agent audited the removal of ${id}` },
        );
    } finally {
      await ta.stop();
      await manager.removeStack('ci2');
    }
  });

  it('a worker that leaves and rejoins gets its agent back, on the same engine', async () => {
    const manager = cluster.manager;
    const worker = cluster.nodes[2]!;
    const oldNodeId = await cluster.nodeId(worker);
    const byService = `label=com.docker.swarm.service.name=${STACK}_agent`;
    await cluster.leave(worker);
    await waitFor(
      async () => (await worker.engine.dockerOk(['ps', '-q', '--filter', byService])) === '',
      60_000,
      {
        message: 'the agent task left with the node',
      },
    );
    await waitFor(
      async () =>
        (await manager.dockerOk(['node', 'inspect', '--format', '{{.Status.State}}', oldNodeId])) === 'down',
      60_000,
      { intervalMs: 500, message: 'the manager sees the old node down' },
    );
    await manager.dockerOk(['node', 'rm', oldNodeId]);
    await cluster.join(worker);
    assert.notEqual(await cluster.nodeId(worker), oldNodeId, 'a new swarm NodeID');
    const cid = await waitFor(
      async () =>
        (await worker.engine.dockerOk(['ps', '-q', '--filter', byService, '--filter', 'health=healthy'])) ||
        undefined,
      120_000,
      { intervalMs: 500, message: 'a new agent task on the rejoined node, healthy' },
    );
    assert.notEqual(cid, agentCid.get(worker.index));
    agentCid.set(worker.index, cid);
    const s = await status(worker);
    assert.deepEqual(
      [s.engine?.id, s.engine?.swarm, s.engine?.manager],
      [engineId.get(worker.index), 'active', false],
    );
  });

  it("the manager's daemon restarted while workers run tasks: the workers' tasks and images stay", async () => {
    const manager = cluster.manager;
    const compose = [
      'version: "3.8"',
      'services:',
      '  app:',
      `    image: ${app}`,
      '    deploy:',
      '      mode: global',
      '',
    ].join('\n');
    await manager.deployStack('ci3', compose);
    await manager.waitForStack('ci3', 120_000);
    const runLabel = 'label=com.docker.stack.namespace=ci3';
    const workers = cluster.nodes.slice(1);
    const before = await Promise.all(
      workers.map((w) => w.engine.dockerOk(['ps', '-q', '--filter', runLabel])),
    );
    const marks = await Promise.all(workers.map((w) => logsOf(w).then((l) => l.length)));
    await manager.stopDaemon('TERM');
    await manager.startDaemon();
    await manager.waitForStack('ci3', 120_000);
    const byService = `label=com.docker.swarm.service.name=${STACK}_agent`;
    const cid = await waitFor(
      async () =>
        (await manager.dockerOk(['ps', '-q', '--filter', byService, '--filter', 'health=healthy'])) ||
        undefined,
      120_000,
      { intervalMs: 500, message: "the manager's agent task back and healthy" },
    );
    agentCid.set(1, cid);
    for (const [i, w] of workers.entries()) {
      assert.equal(
        await w.engine.dockerOk(['ps', '-q', '--filter', runLabel]),
        before[i],
        `node ${w.index}: same task`,
      );
      const since = (await logsOf(w)).slice(marks[i]);
      assert.deepEqual(
        since.filter((r) => r.event === 'eviction' || r.event === 'pull' || r.event === 'stream.down'),
        [],
        `node ${w.index}: nothing evicted, nothing pulled again, its stream never lost`,
      );
    }
    const s = await status(cluster.nodes[0]!);
    assert.ok(
      s.busy.some((b) => b.reason === 'run-stack-live' && b.stack === 'ci3'),
      'the run is live again on the manager',
    );
  });

  it('Prometheus scraping the three agents: its cluster pull count is the sum of the nodes logs', async (t) => {
    prom = await startPrometheus(cluster, work);
    // A run that pulls on every node while Prometheus watches: every node's counter moves.
    const compose = [
      'version: "3.8"',
      'services:',
      '  late:',
      `    image: ${late}`,
      '    deploy:',
      '      mode: global',
      '',
    ];
    await cluster.manager.deployStack('ci4', compose.join('\n'));
    await cluster.manager.waitForStack('ci4', 120_000);
    const perNode = await waitFor(
      async () => {
        const counts = await Promise.all(
          cluster.nodes.map(async (n) => (await logsOf(n)).filter((r) => r.event === 'pull')),
        );
        const all = counts.every((c) => c.some((r) => String(r.ref).startsWith(late)));
        return all ? counts.map((c) => c.length) : undefined;
      },
      30_000,
      { message: 'every node logged its pull of the late image' },
    );
    const fromLogs = perNode.reduce((a, b) => a + b, 0);
    const byNode = await waitFor(
      async () => {
        const v = await prom!.query('sum by (node) (layerwarden_pulls_total)');
        const got = Object.fromEntries(v.map((r) => [r.metric.node, Number(r.value[1])]));
        return cluster.nodes.every((n, i) => got[`node${n.index}`] === perNode[i]) ? got : undefined;
      },
      60_000,
      { message: `Prometheus has each node's pull count (${perNode.join(', ')})` },
    );
    assert.equal(Object.keys(byNode).length, 3);
    // The recording rules: pulls of every node, by class and by registry (the per-account budget).
    for (const expr of [
      'sum(layerwarden:pulls_total:sum_by_class)',
      `layerwarden:registry_pulls_in_window:sum{registry="${cluster.registry}"}`,
    ]) {
      const v = await waitFor(
        async () => {
          const r = await prom!.query(expr);
          return r.length === 1 && Number(r[0]!.value[1]) === fromLogs ? r : undefined;
        },
        60_000,
        { message: `${expr} reaches ${fromLogs}` },
      );
      assert.equal(Number(v[0]!.value[1]), fromLogs, expr);
    }
    // A healthy cluster: the alerting rules evaluate and none is pending or firing.
    assert.deepEqual(await prom.query('ALERTS'), []);
    const byClass = await prom.query('layerwarden:pulls_total:sum_by_class');
    t.diagnostic(
      `prometheus: ${fromLogs} pulls in the logs; by node ${JSON.stringify(byNode)}; by class ${JSON.stringify(Object.fromEntries(byClass.map((r) => [r.metric.class, r.value[1]])))}`,
    );
  });
});
