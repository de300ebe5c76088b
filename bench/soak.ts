/**
 * Soak (issue 7, scenario 12; not run in CI): `layerwarden watch` as a child process against a private
 * engine for `--minutes` (default 60) of continuous runs, pulls, tag churn, its own scheduled prunes
 * (every 2 minutes, images untouched for 90 s) and a daemon restart every `--restart-every` minutes
 * (default 10). Once a `--sample-every` (default 60 s) it samples the agent's heap (as scraped, and
 * after a full collection: bench/gc-on-signal.ts), RSS, open file descriptors (`/proc/<pid>/fd`) and
 * refresh queue depth (`/metrics` via `--listen`), then prints a table and a verdict: flat when the
 * last third's average is within 10 % of the middle third's.
 *
 *   bash scripts/with-engine.sh node --import tsx bench/soak.ts --minutes 60
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { startEngine } from '../test/engine/harness.js';
import { summarize, verdicts } from './soak-report.js';
import { makePool, runWorkload } from './soak-workload.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '60' },
    'restart-every': { type: 'string', default: '10' },
    'sample-every': { type: 'string', default: '60' },
  },
});
const minutes = Number(values.minutes);
const restartEveryMs = Number(values['restart-every']) * 60_000;
const sampleEveryMs = Number(values['sample-every']) * 1000;
if (!(minutes > 0 && restartEveryMs > 0 && sampleEveryMs >= 1000)) {
  process.stderr.write('usage: soak.ts [--minutes 60] [--restart-every 10] [--sample-every 60]\n');
  process.exit(2);
}

export interface Sample {
  minute: number;
  /** Heap used as scraped, and right after a full collection (what is live). */
  heapMB: number;
  heapAfterGcMB: number;
  rssMB: number;
  fds: number;
  queueDepth: number;
  events: number;
  images: number;
  containers: number;
}

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });

/** `name{labels} value` lines summed by name (labels folded), and by `name{kind="…"}` for the objects. */
function parseMetrics(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^([a-z_]+)(\{[^}]*\})? ([0-9.eE+-]+)$/.exec(line);
    if (!m) continue;
    const [, name, labels, v] = m as unknown as [string, string, string | undefined, string];
    out.set(name, (out.get(name) ?? 0) + Number(v));
    const kind = /kind="([a-z_]+)"/.exec(labels ?? '')?.[1];
    if (kind) out.set(`${name}.${kind}`, Number(v));
  }
  return out;
}

const engine = await startEngine();
const work = await mkdtemp(path.join(os.tmpdir(), 'lw-soak-'));
const logFile = path.join(work, 'agent.log');
const samples: Sample[] = [];
let agentExit: Promise<number | null> | undefined;
try {
  await engine.baseImage();
  await engine.swarmInit();
  const pool = await makePool(engine, 6);
  const port = await freePort();
  const agent = spawn(
    process.execPath,
    ['--expose-gc', '--import', 'tsx', '--import', './bench/gc-on-signal.ts', 'src/cli/bin.ts', 'watch']
      .concat(['--docker-host', engine.dockerHost])
      .concat(['--state-file', path.join(work, 'state.json'), '--log-file', logFile])
      .concat(['--listen', `127.0.0.1:${port}`, '--schedule', '*/2 * * * *', '--window', '100s'])
      .concat(['--min-age', '90s', '--disk-high', '1', '--quiet-period', '5s']),
    { cwd: ROOT, env: engine.childEnv(), stdio: ['ignore', 'ignore', 'inherit'] },
  );
  agentExit = new Promise((resolve) => agent.on('exit', (code) => resolve(code)));
  const pid = agent.pid as number;
  const started = Date.now();
  const scrape = async () => parseMetrics(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text());
  const heapMB = (m: Map<string, number>) =>
    Math.round((m.get('layerwarden_nodejs_heap_size_used_bytes') ?? 0) / 1e5) / 10;
  const sample = async () => {
    const metrics = await scrape();
    process.kill(pid, 'SIGUSR2');
    await sleep(500);
    const afterGc = await scrape();
    const fds = (await readdir(`/proc/${pid}/fd`)).length;
    const rss = Number(/VmRSS:\s+(\d+)/.exec(await readFile(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
    const s: Sample = {
      minute: Math.round((Date.now() - started) / 6000) / 10,
      heapMB: heapMB(metrics),
      heapAfterGcMB: heapMB(afterGc),
      rssMB: Math.round(rss / 100) / 10,
      fds,
      queueDepth: metrics.get('layerwarden_refresh_queue_depth') ?? -1,
      events: metrics.get('layerwarden_events_total') ?? 0,
      images: metrics.get('layerwarden_model_objects.images') ?? 0,
      containers: metrics.get('layerwarden_model_objects.containers') ?? 0,
    };
    samples.push(s);
    process.stderr.write(`soak ${JSON.stringify(s)}\n`);
  };
  const sampler = setInterval(() => void sample().catch(() => {}), sampleEveryMs);
  const counts = await runWorkload(pool, { engine, until: started + minutes * 60_000, restartEveryMs });
  await sample().catch(() => {});
  clearInterval(sampler);
  agent.kill('SIGTERM');
  const exitCode = await agentExit;
  const log = (await readFile(logFile, 'utf8')).split('\n').filter((l) => l.startsWith('{'));
  const summary = {
    minutes,
    restartEveryMinutes: restartEveryMs / 60_000,
    sampleEverySeconds: sampleEveryMs / 1000,
    agentExitCode: exitCode,
    workload: { ...counts, runTaskErrors: counts.runTaskErrors.slice(0, 10) },
    noSuchImage: counts.runTaskErrors.filter((e) => /no such image/i.test(e)).length,
    agent: summarize(log.map((l) => JSON.parse(l) as Record<string, unknown>)),
    verdicts: verdicts(samples),
    samples,
  };
  console.table(samples);
  console.log(JSON.stringify({ ...summary, samples: undefined }, null, 2));
  const out = path.join(ROOT, 'bench/out');
  await mkdir(out, { recursive: true });
  await writeFile(path.join(out, `soak-${new Date().toISOString()}.json`), JSON.stringify(summary, null, 2));
} finally {
  await engine.stop();
  await rm(work, { recursive: true, force: true });
}
