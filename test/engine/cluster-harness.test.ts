/**
 * scripts/private-cluster.sh itself: two nodes in a swarm over the hub's bridge, the registry reached
 * from each, nothing routed past the namespaces, everything gone after `stop` (twice), and a DIR that is
 * not ours refused.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { CLUSTER_SCRIPT, startCluster } from './cluster-harness.js';
import { processesOf, run, waitFor } from './harness.js';

describe('private cluster script', { timeout: 300_000 }, () => {
  it('starts a two-node swarm on its own network and stops without a trace', async () => {
    const cluster = await startCluster(2);
    const dir = cluster.dir;
    try {
      const nodes = JSON.parse((await cluster.manager.api('/v1.41/nodes')).body) as Array<{
        ID: string;
        Status: { State: string; Addr: string };
        Spec: { Role: string };
      }>;
      assert.deepEqual(nodes.map((n) => [n.Spec.Role, n.Status.State, n.Status.Addr]).sort(), [
        ['manager', 'ready', '10.231.0.11'],
        ['worker', 'ready', '10.231.0.12'],
      ]);
      const ids = await Promise.all(
        cluster.nodes.map((n) => n.engine.dockerOk(['info', '--format', '{{.ID}}'])),
      );
      assert.notEqual(ids[0], ids[1], 'each node its own engine ID');
      for (const n of cluster.nodes) {
        const v2 = await n.engine.registryGet('/v2/');
        assert.equal(v2.status, 200, `node ${n.index} reaches the registry`);
        const routes = await cluster.inNode(n, ['ip', '-4', 'route', 'show']);
        assert.equal(routes.stdout.includes('default'), false, `node ${n.index} has no default route`);
        const link = await run('readlink', [
          path.join(cluster.socketsDir, `${await cluster.nodeId(n)}.sock`),
        ]);
        assert.equal(link.stdout.trim(), n.engine.socketPath);
      }
      const out = await cluster.inNode(cluster.nodes[1]!, ['curl', '-sS', '-m', '2', 'http://192.0.2.1/']);
      assert.notEqual(out.code, 0, 'nothing past the namespaces');
    } finally {
      await cluster.stop();
      await cluster.stop();
    }
    assert.equal(existsSync(dir), false);
    await waitFor(() => processesOf(dir).length === 0, 15_000, { message: `no process of ${dir} left` });
    assert.equal(readFileSync('/proc/self/mounts', 'utf8').includes(`${dir}/`), false);
  });

  it('refuses to stop a DIR that holds no cluster marker', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'lw-not-a-cluster-'));
    try {
      const r = await run('bash', [CLUSTER_SCRIPT, 'stop', dir]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /refusing to remove/);
      assert.equal(existsSync(dir), true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
