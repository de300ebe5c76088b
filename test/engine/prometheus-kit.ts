/**
 * Prometheus as the cluster's aggregator, the way docs/metrics.md ("A cluster") deploys it: on each
 * node a Prometheus in agent mode scrapes the node-local agent on the node's 127.0.0.1:9465 and
 * remote-writes to one central Prometheus (in the cluster's hub namespace), which loads
 * deploy/prometheus/layerwarden.rules.yml. Scrape and evaluation every second; storage in temp dirs;
 * every process stopped by its pid.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ROOT } from './agent-image.js';
import type { Cluster } from './cluster-harness.js';
import { run, waitFor } from './harness.js';

export interface PromSetup {
  /** An instant query on the central Prometheus: its result vector. */
  query(expr: string): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>>;
  stop(): Promise<void>;
}

const PORT = 9090;

function launch(netns: string, args: string[], log: string[]): ChildProcess {
  // nsenter execs prometheus itself: the child's pid is Prometheus's.
  const child = spawn('nsenter', [`--net=${netns}`, 'prometheus', ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  child.stderr?.on('data', (b: Buffer) => {
    log.push(b.toString());
    if (log.length > 200) log.shift();
  });
  return child;
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await gone;
  clearTimeout(timer);
}

export async function startPrometheus(cluster: Cluster, work: string): Promise<PromSetup> {
  const hubAddr = cluster.registry.split(':')[0]!;
  const central = `${hubAddr}:${PORT}`;
  const dir = path.join(work, 'prometheus');
  await mkdir(dir, { recursive: true });
  const log: string[] = [];
  const children: ChildProcess[] = [];
  await writeFile(
    path.join(dir, 'central.yml'),
    `global:\n  evaluation_interval: 1s\nrule_files:\n  - ${path.join(ROOT, 'deploy/prometheus/layerwarden.rules.yml')}\n`,
  );
  children.push(
    launch(
      cluster.hubNetns,
      [
        `--config.file=${path.join(dir, 'central.yml')}`,
        `--storage.tsdb.path=${path.join(dir, 'central-data')}`,
        `--web.listen-address=${central}`,
        '--web.enable-remote-write-receiver',
      ],
      log,
    ),
  );
  for (const n of cluster.nodes) {
    const config = path.join(dir, `node${n.index}.yml`);
    await writeFile(
      config,
      [
        'global:',
        '  scrape_interval: 1s',
        '  external_labels:',
        `    node: node${n.index}`,
        'scrape_configs:',
        '  - job_name: layerwarden',
        '    static_configs:',
        '      - targets: ["127.0.0.1:9465"]',
        'remote_write:',
        `  - url: http://${central}/api/v1/write`,
        '    queue_config:',
        '      batch_send_deadline: 1s',
        '',
      ].join('\n'),
    );
    children.push(
      launch(
        n.engine.netnsPath,
        [
          '--enable-feature=agent',
          `--config.file=${config}`,
          `--storage.agent.path=${path.join(dir, `node${n.index}-data`)}`,
          `--web.listen-address=127.0.0.1:${PORT}`,
        ],
        log,
      ),
    );
  }
  const query: PromSetup['query'] = async (expr) => {
    const r = await run('nsenter', [
      `--net=${cluster.hubNetns}`,
      'curl',
      '-sS',
      '-m',
      '5',
      '-G',
      '--data-urlencode',
      `query=${expr}`,
      `http://${central}/api/v1/query`,
    ]);
    if (r.code !== 0) throw new Error(`query ${expr}: ${r.stderr.trim()}`);
    const body = JSON.parse(r.stdout) as { status: string; data: { result: [] }; error?: string };
    if (body.status !== 'success') throw new Error(`query ${expr}: ${body.error}`);
    return body.data.result;
  };
  const stop = async () => {
    for (const c of children) await stopChild(c);
  };
  try {
    await waitFor(
      async () => {
        for (const c of children)
          if (c.exitCode !== null)
            throw new Error(`prometheus exited ${c.exitCode}: ${log.join('').slice(-500)}`);
        return (await query('vector(1)')).length === 1;
      },
      30_000,
      { intervalMs: 250, message: 'the central Prometheus answers' },
    );
  } catch (e) {
    await stop();
    throw e;
  }
  return { query, stop };
}
