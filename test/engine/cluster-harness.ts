/**
 * A private multi-node Swarm for engine tests and benchmarks: scripts/private-cluster.sh starts a hub
 * namespace with a bridge and a registry, and N private engines joined to it by veth pairs, one manager
 * and N-1 workers (docs/private-engine.md, "A private cluster"). Stopped by `stop()`, else at process
 * exit, else by scripts/with-engine.sh.
 */
import { spawnSync } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Engine, parseEnvFile, run } from './harness.js';

export const CLUSTER_SCRIPT =
  process.env.LW_CLUSTER_SCRIPT ??
  path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../scripts/private-cluster.sh');

const live = new Set<Cluster>();

async function clusterScript(args: string[], timeoutMs = 180_000): Promise<string> {
  const r = await run('bash', [CLUSTER_SCRIPT, ...args], { timeoutMs });
  if (r.code !== 0) throw new Error(`private-cluster.sh ${args[0]} failed: ${r.stderr.trim() || r.code}`);
  return r.stdout;
}

export interface ClusterNode {
  /** 1 is the manager. */
  index: number;
  engine: Engine;
  /** Its address on the cluster's bridge (10.231.0.x). */
  addr: string;
}

export class Cluster {
  private stopped = false;
  constructor(
    readonly dir: string,
    readonly nodes: ClusterNode[],
    /** host:port of the one registry every node pulls from (plain HTTP, in the hub namespace). */
    readonly registry: string,
    readonly hubNetns: string,
    /** `DIR/sockets/<NodeID>.sock` links to each node's socket. */
    readonly socketsDir: string,
  ) {}

  get manager(): Engine {
    return this.nodes[0]!.engine;
  }

  /** A bind-mount source that Swarm expands on each node to that node's own engine socket. */
  get socketTemplate(): string {
    return path.join(this.socketsDir, '{{.Node.ID}}.sock');
  }

  /** The node's swarm NodeID (every node reports the same host name: tell them apart by this). */
  async nodeId(node: ClusterNode): Promise<string> {
    return node.engine.dockerOk(['info', '--format', '{{.Swarm.NodeID}}']);
  }

  leave(node: ClusterNode): Promise<string> {
    return clusterScript(['leave', this.dir, String(node.index)]);
  }
  join(node: ClusterNode): Promise<string> {
    return clusterScript(['join', this.dir, String(node.index)]);
  }

  /** Runs a command in a node's network namespace (its loopback is that node's 127.0.0.1). */
  inNode(node: ClusterNode, cmd: string[], timeoutMs = 30_000) {
    return run('nsenter', [`--net=${node.engine.netnsPath}`, ...cmd], { timeoutMs });
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    await clusterScript(['stop', this.dir]);
    this.stopped = true;
    live.delete(this);
  }
}

/** Starts a cluster of `size` nodes (node 1 the manager) in a fresh temp dir. */
export async function startCluster(size = 3): Promise<Cluster> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'lw-cluster-'));
  if (process.env.LW_ENGINE_LIST) appendFileSync(process.env.LW_ENGINE_LIST, `${dir}\n`);
  let env: Record<string, string>;
  try {
    env = parseEnvFile(await clusterScript(['start', dir, String(size)]));
  } catch (e) {
    await run('bash', [CLUSTER_SCRIPT, 'stop', dir]);
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
  const dirs = (env.LW_CLUSTER_NODES ?? '').split(' ');
  const addrs = (env.LW_CLUSTER_ADDRS ?? '').split(' ');
  const nodes: ClusterNode[] = [];
  for (const [i, nodeDir] of dirs.entries()) {
    const work = path.join(nodeDir, 'work');
    await mkdir(work);
    const nodeEnv = parseEnvFile(await readFile(path.join(nodeDir, 'env'), 'utf8'));
    nodes.push({ index: i + 1, engine: new Engine(nodeDir, work, nodeEnv), addr: addrs[i]! });
  }
  const cluster = new Cluster(
    dir,
    nodes,
    env.LW_CLUSTER_REGISTRY!,
    env.LW_CLUSTER_HUB_NETNS!,
    env.LW_CLUSTER_SOCKETS!,
  );
  live.add(cluster);
  return cluster;
}

process.on('exit', () => {
  for (const c of live)
    spawnSync('bash', [CLUSTER_SCRIPT, 'stop', c.dir], { stdio: 'ignore', timeout: 120_000 });
});
